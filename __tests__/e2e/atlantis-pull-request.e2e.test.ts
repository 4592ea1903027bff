// A tenant's pull request through a real Atlantis server to a configured Vault
// (see world.ts for what runs). Each scenario is asserted on what the pull
// request shows (comments, statuses) and on what Vault holds.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startE2eWorld, type E2eWorld } from "./world";

// Deadlines scale with the work: a plan or an apply here runs a synth, terraform init and plan.
const COMMAND_MS = 240_000;
jest.setTimeout(30 * 60_000);

let w: E2eWorld;
beforeAll(async () => {
  w = await startE2eWorld();
  await w.adminApply(`${w.env.name}-shared`);
}, 20 * 60_000);
afterAll(async () => {
  // VAULT_GKE_E2E_TRANSCRIPT=<file>: every comment Atlantis posted, to read what a user would have seen.
  if (w && process.env.VAULT_GKE_E2E_TRANSCRIPT) {
    const pulls = Object.keys(w.github.reviews).map(Number);
    const text = pulls.flatMap((n) => w.github.comments(n).map((c) => `### pull request #${n}, comment ${c.id}\n${c.body}\n`)).join("\n");
    writeFileSync(process.env.VAULT_GKE_E2E_TRANSCRIPT, text);
  }
  await w?.teardown();
});

const TENANT = "search";
const TENANT_STACK = `example-tenant-${TENANT}`;
const CLUSTER = () => w.env.tenancy.clusters[0].name;

/** Commits the tenant file (and the regenerated atlantis.yaml) on a new branch; returns the head commit. */
function branchWithTenant(branch: string, tenant: string): string {
  w.git("checkout", "-q", "-b", branch, "main");
  mkdirSync(join(w.repo, "tenants", "example"), { recursive: true });
  writeFileSync(join(w.repo, "tenants", "example", `${tenant}.yaml`), `name: ${tenant}\ncluster: ${CLUSTER()}\nnamespaces: [${tenant}]\nserviceAccounts: [indexer]\n`);
  w.regenerateAtlantisYaml();
  w.git("add", "-A");
  w.git("commit", "-q", "-m", `onboard ${tenant}`);
  const head = w.git("rev-parse", "HEAD");
  w.git("push", "-q", w.github.bareDir, `${branch}:${branch}`);
  w.git("checkout", "-q", "main");
  return head;
}

async function comment(pull: number, body: string, user = "alice") {
  const since = w.github.comments(pull).length;
  const res = await w.github.sendWebhook(w.atlantisUrl, "issue_comment", w.github.issueCommentEvent(pull, body, user));
  expect(res.status).toBe(200);
  return since;
}

describe("onboarding a tenant", () => {
  const PULL = 1;
  let head: string;

  it("shows nothing but the read-only plans before approval, and refuses a plan with one clear message", async () => {
    head = branchWithTenant("onboard-search", TENANT);
    w.github.setPull({ number: PULL, headRef: "onboard-search", baseRef: "main", title: "Onboard search", author: "bob" });
    const opened = await w.github.sendWebhook(w.atlantisUrl, "pull_request", w.github.pullRequestEvent(PULL, "opened"));
    expect(opened.status).toBe(200);

    const since = await comment(PULL, "atlantis plan", "bob");
    const reply = await w.github.waitForComment(PULL, (c) => c.body.includes("Pre-workflow hook failed"), COMMAND_MS, since);
    expect(reply.body).toContain(`waiting for an approval of ${head} by a reviewer with write access`);
    // The opened event started nothing: the only comment is the reply to the command.
    expect(w.github.comments(PULL)).toHaveLength(1);
  });

  it("plans the new tenant stack once approved at the head commit, and applies it", async () => {
    w.github.reviews[PULL] = [{ user: { login: "alice" }, state: "APPROVED", commit_id: head, author_association: "MEMBER", submitted_at: new Date().toISOString() }];
    w.github.permissions.alice = "write";

    let since = await comment(PULL, "atlantis plan");
    const plan = await w.github.waitForComment(PULL, (c) => /Ran Plan/.test(c.body), COMMAND_MS, since);
    expect(plan.body).toContain(TENANT_STACK);
    expect(plan.body).toMatch(/Plan: \d+ to add, 0 to change, 0 to destroy/);
    expect(plan.body).not.toMatch(/example-(platform|vault|shared)/);

    since = await comment(PULL, "atlantis apply");
    const apply = await w.github.waitForComment(PULL, (c) => /Ran Apply/.test(c.body), COMMAND_MS, since);
    expect(apply.body).toMatch(/Apply complete! Resources: \d+ added, 0 changed, 0 destroyed/);
    expect(apply.body).toContain("revoked this run's apply token");
    expect(apply.body).toContain("0 finding(s)");

    const mounts = await w.read("sys/mounts");
    expect(Object.keys(mounts.body.data as object)).toContain(`tenants/${TENANT}/kv/`);
    const role = await w.read(`auth/kubernetes-${CLUSTER()}/role/${TENANT}`);
    expect(role.status).toBe(200);
  });

  it("shows no changes on a new plan", async () => {
    const since = await comment(PULL, "atlantis plan");
    const plan = await w.github.waitForComment(PULL, (c) => /Ran Plan/.test(c.body), COMMAND_MS, since);
    expect(plan.body).toMatch(/No changes/);
  });
});
