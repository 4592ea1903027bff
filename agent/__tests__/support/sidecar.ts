// Runs the built sidecar (agent/dist/main.js) as a real process, the way
// the pod does, and keeps everything it prints for the leak scan.
import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import { projectRoot } from "../../../__tests__/support/bao";

export const SIDECAR_MAIN = resolve(projectRoot(), "agent", "dist", "main.js");

/** The sidecar's status endpoint, once it logged the port it listens on. */
export async function sidecarEndpoint(sidecar: Sidecar): Promise<string> {
  const line = await sidecar.waitForLog("status endpoint listening", 30_000);
  return `http://127.0.0.1:${String(line.port)}`;
}

/** Every line any sidecar printed in this test process. */
export const transcript: string[] = [];

export interface SidecarExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class Sidecar {
  readonly child: ChildProcess;
  output = "";
  readonly exited: Promise<SidecarExit>;

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, [SIDECAR_MAIN], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    const take = (c: Buffer) => {
      const text = c.toString();
      this.output += text;
      transcript.push(text);
    };
    this.child.stdout?.on("data", take);
    this.child.stderr?.on("data", take);
    // "close", not "exit": it comes after the child's stdout and stderr are drained,
    // so every line the sidecar wrote is in `lines` once `exited` resolves.
    this.exited = new Promise((r) => this.child.once("close", (code, signal) => r({ code, signal })));
    running.add(this);
    void this.exited.then(() => running.delete(this));
  }

  /** Parsed JSON log lines so far. */
  get lines(): Record<string, unknown>[] {
    return this.output
      .split("\n")
      .slice(0, -1) // the text after the last newline is a line still being written
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  /** Resolves when a log line with this message appears (or rejects after timeoutMs). */
  async waitForLog(msg: string, timeoutMs = 60_000): Promise<Record<string, unknown>> {
    return this.waitForLine((l) => l.msg === msg, `"${msg}"`, timeoutMs);
  }

  /** Resolves when a log line matching `match` appears (or rejects after timeoutMs). */
  async waitForLine(match: (line: Record<string, unknown>) => boolean, what = "a matching line", timeoutMs = 60_000): Promise<Record<string, unknown>> {
    const msg = what;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.lines.find(match);
      if (line) return line;
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        await this.exited; // its last lines may still be in the pipe
        const last = this.lines.find(match);
        if (last) return last;
        throw new Error(`sidecar exited before logging ${msg}:\n${this.output.slice(-3000)}`);
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${msg}:\n${this.output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<SidecarExit> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

const running = new Set<Sidecar>();

export async function stopAllSidecars(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop("SIGKILL")));
}
