// The main job end to end: build, synthesize the example as `npm run synth`
// does, scan the result with checkov, and check that bad input stops cleanly.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./helpers";

const CHECKOV = join(ROOT, ".tools", "bin", "checkov");
let outdir: string;
let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "vault-gke-main-"));
  outdir = join(work, "cdktf.out");
  execFileSync("node", ["scripts/build.mjs"], { cwd: ROOT });
  execFileSync("node", ["dist/main.js"], { cwd: ROOT, env: { ...process.env, CDKTF_OUTDIR: outdir } });
}, 60_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

const STACKS = ["example-platform", "example-vault", "example-shared", "example-tenant-payments", "example-tenant-search"];
/**
 * At least this many checks must pass per stack, so a scan that checks nothing cannot pass.
 * checkov has no check for the vault_* resources of tenant stacks: there it must have parsed them cleanly.
 */
const MIN_PASSED: Record<string, number> = {
  "example-platform": 50,
  "example-vault": 15,
  "example-shared": 3,
  "example-tenant-payments": 0,
  "example-tenant-search": 0,
};

it("writes the manifest and one cdk.tf.json per stack", () => {
  const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8"));
  expect(Object.keys(manifest.stacks).sort()).toEqual([...STACKS].sort());
  expect(manifest.stacks["example-vault"].dependencies).toContain("example-platform");
  for (const s of STACKS) expect(existsSync(join(outdir, "stacks", s, "cdk.tf.json"))).toBe(true);
});

it("synthesizes the same stacks through the cdktf CLI", () => {
  const out = join(work, "cli-out");
  const run = spawnSync("npx", ["cdktf", "synth", "--output", out], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 120_000,
    env: { ...process.env, CHECKPOINT_DISABLE: "1", CI: "1" },
  });
  expect(run.status).toBe(0);
  const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
  expect(Object.keys(manifest.stacks).sort()).toEqual([...STACKS].sort());
  expect(readFileSync(join(out, "stacks", "example-vault", "cdk.tf.json"), "utf8")).toBe(
    readFileSync(join(outdir, "stacks", "example-vault", "cdk.tf.json"), "utf8"),
  );
}, 120_000);

describe("checkov", () => {
  for (const stack of STACKS) {
    it(`finds no failed check in ${stack}`, () => {
      const run = spawnSync(CHECKOV, ["--config-file", join(ROOT, "checkov.yaml"), "-d", join(outdir, "stacks", stack), "-o", "json"], {
        encoding: "utf8",
        timeout: 120_000,
      });
      const reports = [JSON.parse(run.stdout)].flat() as {
        check_type: string;
        summary: { passed: number; failed: number; parsing_errors: number };
        results: { failed_checks: { check_id: string; resource: string }[] };
      }[];
      const failed = reports.flatMap((r) => r.results?.failed_checks ?? []).map((c) => `${c.check_id} ${c.resource}`);
      expect(failed).toEqual([]);
      // The scan really ran checks on this stack (an empty stack passes nothing).
      expect(reports.reduce((n, r) => n + (r.summary?.passed ?? 0), 0)).toBeGreaterThanOrEqual(MIN_PASSED[stack]);
      // With no applicable check, checkov prints only its summary: either way nothing failed to parse.
      expect(reports.map((r) => (r.summary ?? (r as unknown as { parsing_errors: number })).parsing_errors)).toEqual([0]);
    }, 120_000);
  }
});

it("stops with one line per problem, exit 2, no stack trace and no output on a bad environment file", () => {
  const envDir = join(work, "bad-envs");
  mkdirSync(envDir);
  const example = readFileSync(join(ROOT, "environments", "example.yaml"), "utf8");
  writeFileSync(
    join(envDir, "bad.yaml"),
    example.replace("name: example ", "name: bad ").replace("replicas: 3 ", "replicas: 4 ").replace("seal: gcpckms ", "seal: kms "),
  );
  const badOut = join(work, "bad-out");
  const run = spawnSync("node", ["dist/main.js"], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, CDKTF_OUTDIR: badOut, VAULT_GKE_ENVIRONMENTS: envDir },
  });
  expect(run.status).toBe(2);
  const lines = run.stderr.trim().split("\n");
  expect(lines[0]).toMatch(new RegExp(`^${join(envDir, "bad.yaml")}:\\d+:\\d+: vault\\.seal: got "kms"; use one of "gcpckms", "shamir"$`));
  expect(lines.at(-1)).toBe("1 problem(s) in the environment or tenant files; nothing was synthesized");
  expect(run.stderr).not.toMatch(/\n\s+at /);
  expect(existsSync(badOut)).toBe(false);
});

it("reports a combination the node pool refuses (1 replica in 1 zone) as a config error, not a stack trace", () => {
  const envDir = join(work, "one-zone");
  mkdirSync(envDir);
  const example = readFileSync(join(ROOT, "environments", "example.yaml"), "utf8");
  writeFileSync(join(envDir, "example.yaml"), example.replace("replicas: 3 ", "replicas: 1 ").replace(/  - europe-west1-c\n  - europe-west1-d\n/, ""));
  const out = join(work, "one-zone-out");
  const run = spawnSync("node", ["dist/main.js"], { cwd: ROOT, encoding: "utf8", env: { ...process.env, CDKTF_OUTDIR: out, VAULT_GKE_ENVIRONMENTS: envDir } });
  expect(run.status).toBe(2);
  expect(run.stderr).toMatch(/example\.yaml:\d+:\d+: zones: got \["europe-west1-b"\]; list at least 3 zones of europe-west1: /);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  expect(existsSync(out)).toBe(false);
});
