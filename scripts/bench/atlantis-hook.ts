// What a tenant pull request's `atlantis plan` pays before Terraform starts, and what closing it
// costs Atlantis (it deletes the clone before it answers GitHub's webhook, which GitHub gives up on
// after 10 s). Measured on fresh local clones of this repository at HEAD, with synth.sh as the
// hook and the plan step run it, and Atlantis' rm of the clone.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median } from "./measure";

function clone(root: string, into: string): string {
  const dir = join(into, `clone-${Math.random().toString(36).slice(2, 8)}`);
  execFileSync("git", ["clone", "-q", "--no-hardlinks", root, dir]);
  return dir;
}
function timed(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}
function synth(root: string, dir: string, cache: string): void {
  const res = spawnSync("bash", [join(root, "deploy", "atlantis", "bin", "synth.sh"), "ensure"], {
    env: { ...process.env, DIR: dir, VAULT_GKE_CACHE_DIR: cache },
    encoding: "utf8",
  });
  if (res.status !== 0) throw new Error(`synth.sh failed: ${res.stderr}`);
}

export async function atlantisHookBench(root: string): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), "vault-gke-bench-hook-"));
  const cache = join(work, "cache");
  try {
    const cold = clone(root, work);
    const coldMs = timed(() => synth(root, cold, cache));
    const warm = [1, 2, 3].map(() => {
      const dir = clone(root, work);
      return { dir, ms: timed(() => synth(root, dir, cache)) };
    });
    const again = timed(() => synth(root, warm[0].dir, cache));
    const rmLinked = timed(() => rmSync(warm[1].dir, { recursive: true, force: true }));
    // The old way, for comparison: the packages installed into the clone itself.
    const inClone = clone(root, work);
    execFileSync("npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund"], { cwd: inClone, stdio: "ignore" });
    const rmInstalled = timed(() => rmSync(inClone, { recursive: true, force: true }));
    const s = (ms: number) => (ms / 1000).toFixed(1);
    return `## Atlantis: the hook's install and synth, and closing a pull request

synth.sh (the pre-workflow hook's install and synth, and the first step of each plan) on fresh clones of this repository at HEAD;
the package cache is keyed by the lock file. Closing: Atlantis deletes the clone before it answers the webhook (GitHub waits 10 s).

| step | wall (s) |
| --- | --- |
| install + synth, first clone of a lock file (npm ci into the cache) | ${s(coldMs)} |
| install + synth, another clone with the same lock file (median of 3: link + synth) | ${s(median(warm.map((w) => w.ms)))} |
| the plan step on an already synthesized commit | ${s(again)} |
| delete a clone whose node_modules is the cache link | ${s(rmLinked)} |
| delete a clone with node_modules installed in it (before) | ${s(rmInstalled)} |`;
  } finally {
    spawnSync("chmod", ["-R", "u+w", work]);
    rmSync(work, { recursive: true, force: true });
  }
}
