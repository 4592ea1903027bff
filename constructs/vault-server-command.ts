// The Vault container's command: a POSIX shell that starts the server, sends
// it SIGHUP when a mounted TLS file changes (Vault and OpenBao reload their
// listener certificate on SIGHUP, without dropping a connection), and passes
// the kubelet's TERM on to it (the shell is PID 1: without a trap it would
// ignore TERM; a background job ignores INT anyway). The watcher lives in Vault's own
// container, so nothing else needs to see Vault's process: the alternative,
// the sidecar signalling through shareProcessNamespace, would let the sidecar
// read /proc/<vault>/root, where the server's private key is (the sidecar is
// given the CA only). The tests run this exact script with OpenBao.

export interface ReloadingServerCommandProps {
  /** The server binary ("vault" or "bao", or a path in tests). */
  readonly binary: string;
  /** The server configuration file. */
  readonly configFile: string;
  /** The files whose change triggers a reload: certificate, key and CA. */
  readonly watchedFiles: readonly string[];
  /** How often the files are compared, in seconds (the kubelet refreshes a mounted secret within about a minute). */
  readonly intervalSec: number;
}

/** A single-quoted shell word: the value cannot break out of it. */
function quote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The script, for `sh -c`. */
export function reloadingServerScript(p: ReloadingServerCommandProps): string {
  if (p.watchedFiles.length === 0) throw new Error("reloadingServerScript: name at least one file to watch");
  if (!Number.isInteger(p.intervalSec) || p.intervalSec < 1)
    throw new Error(`reloadingServerScript: intervalSec must be a whole number of seconds, got ${p.intervalSec}`);
  const files = p.watchedFiles.map(quote).join(" ");
  return [
    // cksum is in POSIX and busybox; a missing file (mid-update) reads as a change only once it is back.
    `fingerprint() { cat ${files} 2>/dev/null | cksum; }`,
    `${quote(p.binary)} server ${quote(`-config=${p.configFile}`)} &`,
    "server=$!",
    `trap 'kill -TERM "$server" 2>/dev/null' TERM`,
    "(",
    "  trap - TERM",
    "  seen=$(fingerprint)",
    `  echo "vault-gke: reloading the certificate when a TLS file changes (checked every ${p.intervalSec}s)" >&2`,
    `  while sleep ${p.intervalSec}; do`,
    // Ends by itself once the server is gone: the TERM below can be lost when it arrives right after the fork.
    '    kill -0 "$server" 2>/dev/null || exit 0',
    "    now=$(fingerprint)",
    '    if [ "$now" != "$seen" ]; then',
    '      echo "vault-gke: TLS files changed; sending SIGHUP to reload the certificate" >&2',
    '      kill -HUP "$server" 2>/dev/null || exit 0',
    "      seen=$now",
    "    fi",
    "  done",
    ") &",
    "watcher=$!",
    // wait returns early when a trapped signal arrives: wait again until the server itself has exited.
    "while :; do",
    '  wait "$server"',
    "  code=$?",
    '  kill -0 "$server" 2>/dev/null || break',
    "done",
    'kill "$watcher" 2>/dev/null',
    'exit "$code"',
    "",
  ].join("\n");
}

/** The container command: the script through the image's /bin/sh. */
export function reloadingServerCommand(p: ReloadingServerCommandProps): string[] {
  return ["/bin/sh", "-c", reloadingServerScript(p)];
}
