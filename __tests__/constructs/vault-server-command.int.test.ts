// The Vault container's command (constructs/vault-server-command.ts), run by the
// machine's /bin/sh around a stand-in server that reports the signals it gets:
// a change to a watched file sends SIGHUP, the kubelet's SIGTERM reaches the
// server, and the server's exit status is the container's. The certificate
// rotation test runs the same script around real OpenBao servers.
import { spawn } from "node:child_process";
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { reloadingServerCommand } from "../../constructs/vault-server-command";
import { killProcessGroup } from "../support/process-group";
import { waitFor } from "../support/vault-http";

jest.setTimeout(60_000);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "vault-gke-reload-"));
  // Prints what it was started with and each signal; exits 7 on TERM, as a server's own status would.
  writeFileSync(
    join(dir, "server"),
    ["#!/bin/sh", 'echo "started $*"', "trap 'echo got-HUP' HUP", "trap 'echo got-TERM; exit 7' TERM", "while :; do sleep 0.1; done", ""].join("\n"),
    { mode: 0o755 },
  );
});
const started: number[] = [];
afterAll(() => {
  for (const pid of started) killProcessGroup(pid);
  rmSync(dir, { recursive: true, force: true });
});

/** Whether any process of the group is left. */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

function start(files: string[]) {
  const [shell, flag, script] = reloadingServerCommand({ binary: join(dir, "server"), configFile: "/etc/vault.hcl", watchedFiles: files, intervalSec: 1 });
  // Its own process group: the test can see (and always end) everything the script started.
  const child = spawn(shell, [flag, script], { stdio: ["ignore", "pipe", "pipe"], detached: true });
  started.push(child.pid as number);
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return { child, exited, output: () => out };
}

/** Resolves once the watcher has taken its first fingerprint (it says so). */
async function watching(run: ReturnType<typeof start>): Promise<void> {
  await waitFor("the watcher to start", async () => (run.output().includes("reloading the certificate when a TLS file changes") ? true : undefined), 10_000);
}

/** Replaces a file the way the kubelet updates a mounted secret: a new file renamed over the old one. */
function replace(file: string, content: string): void {
  writeFileSync(`${file}.new`, content);
  renameSync(`${file}.new`, file);
}

it("starts the server with its configuration, reloads it once per change of a watched file, and passes SIGTERM on", async () => {
  const [crt, key] = [join(dir, "tls.crt"), join(dir, "tls.key")];
  writeFileSync(crt, "cert 1");
  writeFileSync(key, "key 1");
  const run = start([crt, key]);
  try {
    await waitFor("the server to start", async () => (run.output().includes("started server -config=/etc/vault.hcl") ? true : undefined), 10_000);
    await watching(run);
    expect(run.output()).not.toContain("got-HUP");

    replace(crt, "cert 2");
    await waitFor("one SIGHUP after the certificate changed", async () => (run.output().includes("got-HUP") ? true : undefined), 10_000);
    expect(run.output()).toContain("TLS files changed; sending SIGHUP to reload the certificate");

    replace(key, "key 2");
    await waitFor("a second SIGHUP after the key changed", async () => (run.output().split("got-HUP").length === 3 ? true : undefined), 10_000);
    // No change, no signal: three more check intervals add nothing.
    await new Promise((r) => setTimeout(r, 3000));
    expect(run.output().split("got-HUP").length).toBe(3);

    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(7);
    expect(run.output()).toContain("got-TERM");
  } finally {
    run.child.kill("SIGKILL");
  }
});

it("treats a file missing for a moment as a change only once it is back", async () => {
  const crt = join(dir, "only.crt");
  writeFileSync(crt, "cert 1");
  const run = start([crt]);
  try {
    await watching(run);
    rmSync(crt);
    // Missing, the fingerprint changes: one reload, of the old certificate Vault still holds (harmless).
    await waitFor("a SIGHUP for the missing file", async () => (run.output().includes("got-HUP") ? true : undefined), 10_000);
    writeFileSync(crt, "cert 2");
    await waitFor("a second SIGHUP once it is back", async () => (run.output().split("got-HUP").length === 3 ? true : undefined), 10_000);
    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(7);
  } finally {
    run.child.kill("SIGKILL");
  }
});

it("exits with the server's own status when the server stops by itself", async () => {
  const crt = join(dir, "x.crt");
  writeFileSync(crt, "x");
  writeFileSync(join(dir, "server"), ["#!/bin/sh", "echo started", "exit 3", ""].join("\n"), { mode: 0o755 });
  const run = start([crt]);
  expect(await run.exited).toBe(3);
  // Nothing is left behind: the watcher ends too, even when the server exited right after the start (then
  // the script's TERM to the watcher can arrive before the watcher's shell is ready for it).
  await waitFor("the watcher to end with the server", async () => (groupAlive(run.child.pid as number) ? undefined : true), 10_000, 100);
});
