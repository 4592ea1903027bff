// Removing a tenant file must not orphan its stack's resources: the check
// reads the removed stacks' Terraform state from the state bucket (a
// fake-gcs-server the official client talks to) and refuses while they manage
// anything.
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { managedResources, removedTenantStacks } from "../commands/check-removals";
import { commandArgs, ROOT } from "./helpers";
import { startFakeGcs, stopAllFakeGcs, type FakeGcs } from "./support/fake-gcs";
import { freePort } from "./support/ports";

jest.setTimeout(60_000);

let repo: string;
let gcs: FakeGcs;
const BUCKET = "acme-tfstate-vault";
const STATE = (stack: string) => `vault-gke/example/${stack}/default.tfstate`;
const state = (resources: unknown[]) => Buffer.from(JSON.stringify({ version: 4, serial: 3, resources }));
const mount = { mode: "managed", type: "vault_mount", name: "kv", instances: [{ attributes: { path: "tenants/search/kv" } }] };

function run(env: Record<string, string> = {}, args = ["--base", "base"]) {
  return spawnSync(process.execPath, [...commandArgs("check-removals"), ...args], {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", VAULT_GKE_REPO: repo, STORAGE_EMULATOR_HOST: gcs.url, ...env },
  });
}

beforeAll(async () => {
  repo = mkdtempSync(join(tmpdir(), "vault-gke-removals-"));
  mkdirSync(join(repo, "environments"));
  mkdirSync(join(repo, "tenants", "example"), { recursive: true });
  copyFileSync(join(ROOT, "environments", "example.yaml"), join(repo, "environments", "example.yaml"));
  for (const t of ["payments", "search"]) copyFileSync(join(ROOT, "tenants", "example", `${t}.yaml`), join(repo, "tenants", "example", `${t}.yaml`));
  const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, stdio: "pipe" });
  git("init", "-q", "-b", "main");
  git("add", ".");
  git("-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "base");
  git("tag", "base");
  unlinkSync(join(repo, "tenants", "example", "search.yaml"));
  gcs = await startFakeGcs();
  await gcs.createBucket(BUCKET);
});

afterAll(async () => {
  await stopAllFakeGcs();
  rmSync(repo, { recursive: true, force: true });
});

it("refuses to remove a tenant file while its stack still manages resources, saying what to do", async () => {
  await gcs.putObject(BUCKET, STATE("example-tenant-search"), state([mount, { ...mount, type: "vault_kubernetes_auth_backend_role" }]));
  const r = run();
  expect(r.status).toBe(1);
  expect(r.stdout).toBe(
    "tenants/example/search.yaml: removed, but stack example-tenant-search still manages 2 resource(s) (gs://acme-tfstate-vault/vault-gke/example/example-tenant-search/default.tfstate); destroy it first (README: offboarding a tenant), then remove the file\n",
  );
});

it("lets the removal through once the stack was destroyed (an empty state) or never applied", async () => {
  await gcs.putObject(BUCKET, STATE("example-tenant-search"), state([]));
  expect(run().status).toBe(0);
  await gcs.deleteObject(BUCKET, STATE("example-tenant-search"));
  const r = run();
  expect([r.status, r.stdout]).toEqual([0, "tenants/example/search.yaml: removed; stack example-tenant-search manages nothing, fine\n"]);
});

it("refuses with exit 3 when the state cannot be read", async () => {
  const r = run({ STORAGE_EMULATOR_HOST: `http://127.0.0.1:${await freePort()}` });
  expect(r.status).toBe(3);
  expect(r.stderr).toContain("tenants/example/search.yaml: cannot read the state of example-tenant-search");
});

it.each([
  ["--base missing", [], "check-removals: --base is missing; give the git ref the change merges into, for example --base origin/main"],
  ["--base without a ref", ["--base"], "check-removals: --base needs a git ref, got nothing; for example --base origin/main"],
  ["an empty --base", ["--base", ""], 'check-removals: --base needs a git ref, got ""; for example --base origin/main'],
  ["extra arguments", ["--base", "base", "tenants"], 'check-removals: unexpected argument "tenants"; give only --base <ref>'],
])("fails on %s with exit 2, the fix and the usage", (_, args, message) => {
  const r = run({}, args);
  expect([r.status, r.stdout, r.stderr]).toEqual([2, "", `${message}\nusage: npm run --silent check-removals -- --base <git ref of the target branch>\n`]);
});

it("fails on an unknown git ref with exit 2, naming it and the fix", () => {
  const r = run({}, ["--base", "no-such-ref"]);
  expect([r.status, r.stdout]).toEqual([2, ""]);
  expect(r.stderr).toMatch(
    /^check-removals: --base "no-such-ref": cannot list tenants\/ at this ref \(fatal: .*no-such-ref.*\); fetch the base branch first .* or fix the ref\n$/,
  );
});

describe("pure parts", () => {
  it("finds removed tenant files and where their state lives", () => {
    const envs = new Map([["example", { name: "example", backend: { bucket: "b", prefix: "p/x" } }]]);
    expect(removedTenantStacks(["tenants/example/a.yaml", "tenants/example/b.yaml", "README.md"], ["tenants/example/a.yaml"], envs)).toEqual([
      { file: "tenants/example/b.yaml", stack: "example-tenant-b", bucket: "b", object: "p/x/example-tenant-b/default.tfstate" },
    ]);
    expect(() => removedTenantStacks(["tenants/gone/a.yaml"], [], envs)).toThrow(/environments\/gone\.yaml cannot be read at the base/);
  });

  it("counts managed resources, not data sources", () => {
    expect(managedResources(undefined)).toBe(0);
    expect(managedResources(state([]))).toBe(0);
    expect(managedResources(state([mount, { mode: "data", type: "x", instances: [{}] }]))).toBe(1);
  });
});
