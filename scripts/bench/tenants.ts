import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fmt, median, runMeasured } from "./measure";

const SIZES = [1, 100, 1000];
const RUNS = 3;

/** N tenant files of the example environment: every third with a transit key, every tenth with PostgreSQL. */
export function writeTenants(dir: string, n: number): void {
  mkdirSync(join(dir, "example"), { recursive: true });
  for (let i = 0; i < n; i++) {
    const name = `team-${String(i).padStart(4, "0")}`;
    const engines = [
      i % 3 === 0 ? "  transit:\n    keys: [orders]\n" : "",
      i % 10 === 0 ? `  postgres:\n    host: db-${i}.internal.acme.dev\n    database: app\n    username: vault_admin\n` : "",
    ].join("");
    writeFileSync(
      join(dir, "example", `${name}.yaml`),
      `name: ${name}\ncluster: apps-prod\nnamespaces: [${name}]\nserviceAccounts: [api]\n${engines ? `engines:\n${engines}` : ""}`,
    );
  }
}

/** Resources in a synthesized output folder (every stack). */
function countResources(out: string): { stacks: number; resources: number } {
  const stacks = readdirSync(join(out, "stacks"));
  let resources = 0;
  for (const s of stacks) {
    const tf = JSON.parse(readFileSync(join(out, "stacks", s, "cdk.tf.json"), "utf8")) as { resource?: Record<string, Record<string, unknown>> };
    for (const byName of Object.values(tf.resource ?? {})) resources += Object.keys(byName).length;
  }
  return { stacks: stacks.length, resources };
}

/**
 * Synth wall time and peak RSS with 1, 100 and 1,000 tenants (one stack each),
 * next to a toy cdktf app with the same number of resources in one stack, run
 * in the same loop so both see the same machine state.
 */
export async function tenantsBench(root: string): Promise<string> {
  execFileSync("node", ["scripts/build.mjs"], { cwd: root });
  execFileSync(
    "npx",
    ["esbuild", "scripts/bench/toy-app.ts", "--bundle", "--platform=node", "--packages=external", "--outfile=dist/toy-app.js", "--log-level=warning"],
    { cwd: root },
  );
  const rows: string[] = [];
  for (const n of SIZES) {
    const dir = mkdtempSync(join(tmpdir(), "vault-gke-bench-tenants-"));
    try {
      writeTenants(join(dir, "tenants"), n);
      const out = join(dir, "out");
      const real = Array.from({ length: RUNS }, () =>
        runMeasured("node", ["dist/main.js"], { cwd: root, env: { CDKTF_OUTDIR: out, VAULT_GKE_TENANTS: join(dir, "tenants") }, nodeRss: true }),
      );
      const { stacks, resources } = countResources(out);
      const toyOut = join(dir, "toy");
      const toy = Array.from({ length: RUNS }, () =>
        runMeasured("node", ["dist/toy-app.js", String(resources)], { cwd: root, env: { CDKTF_OUTDIR: toyOut }, nodeRss: true }),
      );
      const toyStacks = Array.from({ length: RUNS }, () =>
        runMeasured("node", ["dist/toy-app.js", String(resources), String(stacks)], { cwd: root, env: { CDKTF_OUTDIR: toyOut }, nodeRss: true }),
      );
      const wall = median(real.map((r) => r.wallMs));
      const toyWall = median(toy.map((r) => r.wallMs));
      const toyStacksWall = median(toyStacks.map((r) => r.wallMs));
      const rss = (runs: typeof real) => fmt(Math.max(...runs.map((r) => r.peakRssMb ?? NaN)));
      rows.push(
        `| ${n} | ${stacks} | ${resources} | ${fmt(wall)} | ${rss(real)} | ${fmt(wall / n, 2)} | ${fmt(toyWall)} / ${rss(toy)} | ${fmt(wall / toyWall, 2)} | ${fmt(toyStacksWall)} / ${rss(toyStacks)} | ${fmt(wall / toyStacksWall, 2)} |`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return [
    "## Tenants at scale: one stack per tenant",
    "",
    `\`node dist/main.js\` for the example environment with N generated tenants (every third with a transit key, every tenth with PostgreSQL), median of ${RUNS} runs; beside it, in the same loop, a toy cdktf app with the same number of resources (\`vault_mount\`), once in a single stack and once spread over as many stacks (each with its backend and provider). Goal at 1,000 tenants: within 1.5x the single-stack toy's time and under 1 GB.`,
    "",
    "| tenants | stacks | resources | synth wall (ms) | synth peak RSS (MB) | ms per tenant | toy, 1 stack: wall (ms) / RSS (MB) | synth / toy | toy, same stacks: wall (ms) / RSS (MB) | synth / toy |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
    "",
    "Reading it: the fixed part (loading four provider packages and synthesizing the platform, vault and shared stacks, about 0.5 s) dominates small runs. At scale the cost is cdktf's per stack: the toy with as many stacks costs about what the real synth does, so one stack per tenant, not vault-gke's code, is what exceeds 1.5x the single-stack toy. Tenant stacks already skip cdktf's preparing resolve (they hold no cross-stack reference); what remains per stack is cdktf's resolve, validation and one file write. Memory stays far under 1 GB. The layout is kept for what it buys: a tenant's pull request locks and plans only its own stack.",
  ].join("\n");
}
