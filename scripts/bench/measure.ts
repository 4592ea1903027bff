import { spawnSync, type SpawnSyncOptions } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface RunFigures {
  readonly wallMs: number;
  /** Peak RSS of the measured node process in MB, when it reported one. */
  readonly peakRssMb?: number;
}

/**
 * Runs a command and measures its wall time. For a node script, `--require`
 * of a tiny reporter records the process's own peak RSS (getrusage maxrss).
 */
export function runMeasured(command: string, args: string[], options: SpawnSyncOptions & { nodeRss?: boolean } = {}): RunFigures {
  const dir = mkdtempSync(join(tmpdir(), "vault-gke-bench-"));
  const rssFile = join(dir, "rss");
  const env = { ...process.env, ...options.env };
  if (options.nodeRss) {
    env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ""} --require ${join(__dirname, "rss-reporter.js")}`.trim();
    env.VAULT_GKE_RSS_FILE = rssFile;
  }
  const start = process.hrtime.bigint();
  const run = spawnSync(command, args, { ...options, env, stdio: ["ignore", "ignore", "pipe"] });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  if (run.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (${run.status}): ${run.stderr}`);
  let peakRssMb: number | undefined;
  try {
    peakRssMb = Math.max(...readFileSync(rssFile, "utf8").trim().split("\n").map(Number)) / 1024;
  } catch {
    peakRssMb = undefined;
  }
  rmSync(dir, { recursive: true, force: true });
  return { wallMs, peakRssMb };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export const fmt = (n: number, digits = 0) => n.toFixed(digits);
