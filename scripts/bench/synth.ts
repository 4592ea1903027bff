import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fmt, median, runMeasured } from "./measure";

const RUNS = 5;

/** Wall time and peak RSS of synthesizing the example environment. */
export async function synthBench(root: string): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), "vault-gke-bench-out-"));
  const env = { CDKTF_OUTDIR: out };
  try {
    runMeasured("node", ["scripts/build.mjs"], { cwd: root });
    const direct = Array.from({ length: RUNS }, () => runMeasured("node", ["dist/main.js"], { cwd: root, env, nodeRss: true }));
    const viaNpm = Array.from({ length: RUNS }, () => runMeasured("npm", ["run", "--silent", "synth"], { cwd: root, env, nodeRss: true }));
    const row = (label: string, runs: typeof direct) =>
      `| ${label} | ${fmt(median(runs.map((r) => r.wallMs)))} | ${fmt(Math.max(...runs.map((r) => r.wallMs)))} | ${fmt(Math.max(...runs.map((r) => r.peakRssMb ?? NaN)))} |`;
    return [
      "## Synth of the example environment (5 stacks: platform, vault, shared, two tenants)",
      "",
      `${RUNS} runs each, warm file cache. Budget: 2.0 s wall and 300 MB peak RSS for \`npm run synth\`.`,
      "",
      "| command | median wall (ms) | max wall (ms) | peak RSS (MB, largest node process) |",
      "| --- | --- | --- | --- |",
      row("`node dist/main.js`", direct),
      row("`npm run synth` (esbuild + synth)", viaNpm),
    ].join("\n");
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** Wall time of the unit tests (every test that starts no server). */
export async function unitTestBench(root: string): Promise<string> {
  const runs = Array.from({ length: 3 }, () => runMeasured("npx", ["jest", "--ci", "--selectProjects", "unit", "--silent"], { cwd: root }));
  return [
    "## Unit tests",
    "",
    "`npx jest --selectProjects unit` (no server started), 3 runs. Budget: 30 s.",
    "",
    "| median wall (s) | max wall (s) |",
    "| --- | --- |",
    `| ${fmt(median(runs.map((r) => r.wallMs)) / 1000, 1)} | ${fmt(Math.max(...runs.map((r) => r.wallMs)) / 1000, 1)} |`,
  ].join("\n");
}
