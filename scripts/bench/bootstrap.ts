// The sidecar against real OpenBao and the Secret Manager stand-in: time from
// the server's listener accepting connections to the plan token stored,
// the sidecar's peak RSS, and how fast SIGTERM stops it.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createWorld, type World } from "../../agent/__tests__/support/fixture";
import { Sidecar, stopAllSidecars } from "../../agent/__tests__/support/sidecar";
import { stopAllBao } from "../../__tests__/support/bao";
import { fmt, median } from "./measure";

const RUNS = 3;

interface Run {
  readonly convergeMs: number;
  readonly peakRssMb: number;
  readonly sigtermMs: number;
}

async function once(replicas: 1 | 3): Promise<Run> {
  const rssDir = mkdtempSync(join(tmpdir(), "vault-gke-rss-"));
  const rssFile = join(rssDir, "rss");
  let world: World | undefined;
  try {
    world = await createWorld({ replicas, seal: replicas === 1 ? "shamir" : "auto" });
    // createWorld returns once every listener accepts connections: the clock starts now.
    const start = process.hrtime.bigint();
    const reporter = join(__dirname, "rss-reporter.js");
    const env = (i: number) =>
      world!.sidecarEnv(i, { NODE_OPTIONS: `--require ${reporter}`, VAULT_GKE_RSS_FILE: rssFile, MIN_WAIT_MS: "100", MAX_WAIT_MS: "10000" });
    const sidecars = Array.from({ length: replicas }, (_, i) => new Sidecar(env(i)));
    for (;;) {
      if (world.store.versions(world.ids.planToken).length > 0) break;
      if (sidecars.some((s) => s.child.exitCode !== null)) throw new Error(`a sidecar exited: ${sidecars.map((s) => s.output.slice(-500)).join("\n")}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const convergeMs = Number(process.hrtime.bigint() - start) / 1e6;
    await sidecars[0].waitForLog("root token revoked");
    await new Promise((r) => setTimeout(r, 1500)); // let it settle into a steady wait
    const sent = process.hrtime.bigint();
    const exit = await sidecars[0].stop("SIGTERM");
    const sigtermMs = Number(process.hrtime.bigint() - sent) / 1e6;
    if (exit.code !== 0) throw new Error(`sidecar exited ${JSON.stringify(exit)}`);
    await Promise.all(sidecars.map((s) => s.stop("SIGTERM")));
    const peakRssMb = Math.max(...readFileSync(rssFile, "utf8").trim().split("\n").map(Number)) / 1024;
    return { convergeMs, peakRssMb, sigtermMs };
  } finally {
    await stopAllSidecars();
    await world?.teardown();
    await stopAllBao();
    rmSync(rssDir, { recursive: true, force: true });
  }
}

export async function bootstrapBench(): Promise<string> {
  const rows: string[] = [];
  for (const replicas of [1, 3] as const) {
    const runs: Run[] = [];
    for (let i = 0; i < RUNS; i++) runs.push(await once(replicas));
    const label = replicas === 1 ? "1 node, Shamir" : "3 Raft nodes, auto-unseal (transit)";
    rows.push(
      `| ${label} | ${fmt(median(runs.map((r) => r.convergeMs)))} | ${fmt(Math.max(...runs.map((r) => r.convergeMs)))} | ${fmt(Math.max(...runs.map((r) => r.peakRssMb)))} | ${fmt(median(runs.map((r) => r.sigtermMs)))} |`,
    );
  }
  return [
    "## Bootstrap sidecar",
    "",
    `Real OpenBao 2.7.2 servers with the shipped configuration, the Secret Manager and metadata-server stand-in on loopback, ${RUNS} runs per row.`,
    "Converge: from every server's listener accepting connections to the plan token stored (init, keys stored and verified,",
    "unseal, policies, generate-root, sidecar and plan tokens). For scale: vault-init polls every 10 s and bank-vaults every 5 s.",
    "SIGTERM: from the signal during a steady wait to the process exit (the test allows 5 s).",
    "",
    "| case | converge median (ms) | converge max (ms) | sidecar peak RSS (MB) | SIGTERM to exit, median (ms) |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}
