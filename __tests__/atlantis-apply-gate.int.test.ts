// A plain `atlantis apply` applies every plan file of the pull request in
// execution order and goes on after a failure, and the shared stack is an
// admin's to apply. Replayed with real Terraform (no provider: terraform_data)
// on plans made the way Atlantis makes them: the plan workflow's last step
// (admin-changes.sh) counts the shared stack's changes; while there are any,
// the pre-workflow hook refuses the apply before anything runs; once an admin
// applied them and the plan shows none, the apply passes the shared stack
// (apply.sh applies nothing there) and applies the tenant's plan.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./helpers";
import { GitHubApiStandIn } from "./support/github-api-stand-in";

jest.setTimeout(120_000);

const BIN = join(ROOT, "deploy", "atlantis", "bin");
const GH_TOKEN = "ghs_StandInTokenForTestsOnly";
const SHARED = "example-shared";
const TENANT = "example-tenant-payments";
const github = new GitHubApiStandIn("acme", "vault-gke", 3, GH_TOKEN);
let clone: string;
let head: string;

const stackDir = (stack: string) => join(clone, "ci-cdktf.out", "stacks", stack);
function writeStack(stack: string, input: string): void {
  mkdirSync(stackDir(stack), { recursive: true });
  writeFileSync(join(stackDir(stack), "cdk.tf.json"), JSON.stringify({ resource: { terraform_data: { setting: { input } } } }));
}
const terraform = (stack: string, ...args: string[]) =>
  execFileSync("terraform", args, { cwd: stackDir(stack), env: { ...process.env, CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1" }, encoding: "utf8" });
/** Atlantis' init and plan steps, then the workflow's last plan step. */
function plan(stack: string) {
  terraform(stack, "init", "-input=false", "-no-color");
  terraform(stack, "plan", "-input=false", "-no-color", "-out", "default.tfplan");
  return step("admin-changes.sh", stack);
}
/** A run step as Atlantis runs it: sh -c in the project dir, with DIR, PROJECT_NAME and PLANFILE. */
function step(script: string, stack: string) {
  const res = spawnSync("sh", ["-c", join(BIN, script)], {
    cwd: stackDir(stack),
    env: {
      PATH: process.env.PATH ?? "",
      HOME: clone,
      DIR: stackDir(stack),
      PROJECT_NAME: stack,
      PLANFILE: join(stackDir(stack), "default.tfplan"),
      CHECKPOINT_DISABLE: "1",
    },
    encoding: "utf8",
  });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}
/** The pre-workflow hook of `atlantis apply`. */
function hookBeforeApply(): Promise<{ status: number | null; stderr: string }> {
  const child = spawn("bash", [join(BIN, "pre-workflow-hook.sh")], {
    cwd: clone,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: clone,
      DIR: clone,
      PULL_NUM: "3",
      HEAD_COMMIT: head,
      BASE_REPO_OWNER: "acme",
      BASE_REPO_NAME: "vault-gke",
      COMMAND_NAME: "apply",
      VAULT_GKE_GITHUB_TOKEN: GH_TOKEN,
      VAULT_GKE_GITHUB_API_URL: github.url,
    },
  });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on("close", (status) => resolve({ status, stderr })));
}
const applied = (stack: string) =>
  existsSync(join(stackDir(stack), "terraform.tfstate")) && readFileSync(join(stackDir(stack), "terraform.tfstate"), "utf8").includes("terraform_data");

beforeAll(async () => {
  await github.start();
  clone = mkdtempSync(join(tmpdir(), "vault-gke-apply-gate-"));
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], { cwd: clone, encoding: "utf8" }).trim();
  git("init", "-q");
  writeFileSync(join(clone, "README"), "a pull request that changes the shared stack and a tenant\n");
  git("add", ".");
  git("commit", "-q", "-m", "change");
  head = git("rev-parse", "HEAD");
  github.reviews = [{ user: { login: "alice" }, state: "APPROVED", commit_id: head, author_association: "MEMBER" }];
  github.permissions = { alice: "write" };
  // The synth of this commit, as synth.sh leaves it: two stacks, the delivery manifest, the marker.
  writeStack(SHARED, "new backend");
  writeStack(TENANT, "new tenant");
  const stacks = { [SHARED]: { kind: "shared", environment: "example" }, [TENANT]: { kind: "tenant", environment: "example", tenant: "payments" } };
  writeFileSync(join(clone, "ci-cdktf.out", "vault-gke-delivery.json"), JSON.stringify({ stacks, environments: { example: {} } }));
  writeFileSync(join(clone, "ci-cdktf.out", ".vault-gke-synthesized-commit"), `${head}\n`);
});
afterAll(async () => {
  await github.stop();
  rmSync(clone, { recursive: true, force: true });
});

describe("atlantis apply of a pull request that changes the shared stack and a tenant", () => {
  it("refuses before anything is applied while the shared stack has changes an admin must apply", async () => {
    expect(plan(SHARED)).toEqual({
      status: 0,
      stderr: "",
      stdout: expect.stringContaining(`vault-gke: ${SHARED} has 1 change(s) that only an admin applies (terraform_data.setting)`),
    });
    expect(plan(TENANT)).toEqual({ status: 0, stdout: "", stderr: "" });

    const hook = await hookBeforeApply();
    expect(hook.status).toBe(1);
    expect(hook.stderr).toBe(
      `vault-gke: nothing was applied: ${SHARED} (1 change(s)) must first be applied by an admin ('npx cdktf deploy <stack>' with an admin login, see the operator guide); then comment 'atlantis plan' and 'atlantis apply'\n`,
    );
    // Were the hook bypassed, the shared project's apply step would refuse too, and apply nothing.
    const shared = step("apply.sh", SHARED);
    expect(shared.status).toBe(1);
    expect(shared.stderr).toMatch(new RegExp(`^vault-gke: ${SHARED} has 1 change\\(s\\) that only an admin applies`));
    expect(applied(SHARED)).toBe(false);
    expect(applied(TENANT)).toBe(false);
  });

  it("applies the tenant and passes the shared stack once an admin applied it and its plan shows no changes", async () => {
    terraform(SHARED, "apply", "-input=false", "-no-color", "-auto-approve"); // the admin's deploy
    expect(plan(SHARED).stdout).toBe(`vault-gke: ${SHARED} has no changes; 'atlantis apply' passes it without applying anything\n`);
    expect((await hookBeforeApply()).status).toBe(0);

    expect(step("apply.sh", SHARED)).toEqual({
      status: 0,
      stderr: "",
      stdout: `vault-gke: ${SHARED} has no changes; nothing applied (an admin applies this stack)\n`,
    });
    const tenant = step("apply.sh", TENANT);
    expect(tenant.status).toBe(0);
    expect(tenant.stdout).toContain("Apply complete! Resources: 1 added, 0 changed, 0 destroyed.");
    expect(applied(TENANT)).toBe(true);
    // Plan files go once applied, as with Atlantis' own apply step: a second plain apply finds nothing.
    for (const stack of [SHARED, TENANT]) expect(existsSync(join(stackDir(stack), "default.tfplan"))).toBe(false);
  });
});
