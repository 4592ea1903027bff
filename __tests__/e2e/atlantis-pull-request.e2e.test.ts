// Pull requests through a real Atlantis server to a configured Vault (world.ts
// says what runs). Each scenario is asserted on what the pull request shows
// (comments, statuses) and on what Vault holds. The scenarios build on each
// other, in order: onboarding, a push after approval, main moving after a
// plan, a pull request that also changes the shared stack, offboarding.
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { vaultRequest, waitFor } from "../support/vault-http";
import { startE2eWorld, type E2eWorld } from "./world";

// Deadlines scale with the work: a command runs the hook, a synth, terraform init and plan or apply.
const COMMAND_MS = 300_000;
jest.setTimeout(30 * 60_000);

let w: E2eWorld;
beforeAll(async () => {
  w = await startE2eWorld();
  await w.adminApply(`${w.env.name}-shared`);
}, 20 * 60_000);
afterAll(async () => {
  // VAULT_GKE_E2E_TRANSCRIPT=<file>: every comment Atlantis posted, to read what a user would have seen.
  if (w && process.env.VAULT_GKE_E2E_TRANSCRIPT) {
    const text = [1, 2, 3, 4, 5].flatMap((n) => w.github.comments(n).map((c) => `### pull request #${n}, comment ${c.id}\n${c.body}\n`)).join("\n");
    writeFileSync(process.env.VAULT_GKE_E2E_TRANSCRIPT, text);
  }
  await w?.teardown();
});

const CLUSTER = () => w.env.tenancy.clusters[0].name;
const tenantFile = (tenant: string) => join(w.repo, "tenants", "example", `${tenant}.yaml`);
const writeTenant = (tenant: string, namespaces = [tenant]) => {
  mkdirSync(join(w.repo, "tenants", "example"), { recursive: true });
  writeFileSync(tenantFile(tenant), `name: ${tenant}\ncluster: ${CLUSTER()}\nnamespaces: [${namespaces.join(", ")}]\nserviceAccounts: [app]\n`);
};

/** Commits what `change` does on `branch` (created from main when new), with atlantis.yaml regenerated, and pushes it; returns the head. */
function commitOn(branch: string, message: string, change: () => void): string {
  const exists = w.git("branch", "--list", branch) !== "";
  w.git("checkout", "-q", ...(exists ? [branch] : ["-b", branch, "main"]));
  change();
  w.regenerateAtlantisYaml();
  w.git("add", "-A");
  w.git("commit", "-q", "-m", message);
  const head = w.git("rev-parse", "HEAD");
  w.git("push", "-q", "--force", w.github.bareDir, `${branch}:${branch}`);
  w.git("checkout", "-q", "main");
  return head;
}

function openPull(number: number, branch: string, title: string): Promise<{ status: number }> {
  w.github.setPull({ number, headRef: branch, baseRef: "main", title, author: "bob" });
  return w.github.sendWebhook(w.atlantisUrl, "pull_request", w.github.pullRequestEvent(number, "opened"));
}

/** Comments on the pull request as `user` and waits for Atlantis' reply that matches `reply`. */
async function command(pull: number, body: string, reply: RegExp, user = "alice") {
  const since = w.github.comments(pull).length;
  const res = await w.github.sendWebhook(w.atlantisUrl, "issue_comment", w.github.issueCommentEvent(pull, body, user));
  expect(res.status).toBe(200);
  return w.github.waitForComment(pull, (c) => reply.test(c.body), COMMAND_MS, since);
}

function approve(pull: number, head: string) {
  w.github.permissions.alice = "write";
  (w.github.reviews[pull] ??= []).push({
    user: { login: "alice" },
    state: "APPROVED",
    commit_id: head,
    author_association: "MEMBER",
    submitted_at: new Date().toISOString(),
  });
}

const mounts = async () => Object.keys((await w.read("sys/mounts")).body.data as object);

/** A pod of the tenant cluster logs in with its service account token for the role's audience (TokenReview by the real API server). */
async function tenantLogin(tenant: string, namespace = tenant): Promise<{ status: number; policies?: string[] }> {
  await w.kube.api("POST", "/api/v1/namespaces", { metadata: { name: namespace } });
  await w.kube.api("POST", `/api/v1/namespaces/${namespace}/serviceaccounts`, { metadata: { name: "app" } });
  const minted = await w.kube.api("POST", `/api/v1/namespaces/${namespace}/serviceaccounts/app/token`, {
    spec: { audiences: ["vault"], expirationSeconds: 600 },
  });
  const jwt = String((minted.body.status as { token: string }).token);
  const server = w.vault.cluster.servers[0];
  const login = await vaultRequest(server.addr, server.ca, "POST", `/v1/auth/kubernetes-${CLUSTER()}/login`, { body: { role: tenant, jwt } });
  return { status: login.status, policies: (login.body.auth as { policies?: string[] } | undefined)?.policies };
}

describe("a: onboarding a tenant", () => {
  const PULL = 1;
  let head: string;

  it("shows nothing from Atlantis before approval, and refuses a plan with one clear message", async () => {
    head = commitOn("onboard-search", "onboard search", () => writeTenant("search"));
    expect((await openPull(PULL, "onboard-search", "Onboard search")).status).toBe(200);
    const reply = await command(PULL, "atlantis plan", /Pre-workflow hook failed/, "bob");
    expect(reply.body).toContain(`waiting for an approval of ${head} by a reviewer with write access`);
    // The opened event started nothing: the only comment is the reply to the command.
    expect(w.github.comments(PULL)).toHaveLength(1);
    expect(
      w.github
        .statuses(head)
        .filter((s) => s.state === "failure")
        .map((s) => s.context),
    ).toEqual(["atlantis/pre_workflow_hook: vault-gke approval gate and synth", "atlantis/plan"]);
  });

  it("plans only the new tenant stack once approved at the head commit, applies it, and the tenant's pods log in", async () => {
    approve(PULL, head);
    const plan = await command(PULL, "atlantis plan", /Ran Plan/);
    expect(plan.body).toContain("Ran Plan for project: `example-tenant-search`");
    expect(plan.body).toMatch(/Plan: 3 to add, 0 to change, 0 to destroy/);
    expect(w.github.latestStatus(head, "atlantis/plan")).toMatchObject({ state: "success" });

    const apply = await command(PULL, "atlantis apply", /Ran Apply/);
    expect(apply.body).toContain("Apply complete! Resources: 3 added, 0 changed, 0 destroyed.");
    expect(apply.body).toContain("vault-gke: revoked this run's apply token");
    expect(apply.body).toContain("0 finding(s) in");
    expect(w.github.latestStatus(head, "atlantis/apply")).toMatchObject({ state: "success" });

    expect(await mounts()).toContain("tenants/search/kv/");
    // The sidecar renders the tenant's policy from what Vault now holds.
    await waitFor(
      "the sidecar to write tenant-search",
      async () => ((await w.read("sys/policies/acl/tenant-search")).status === 200 ? true : undefined),
      120_000,
      250,
    );
    // Its policy and no other tenant's (the token also carries `default` today; issue 17 takes it away).
    const login = await tenantLogin("search");
    expect(login.status).toBe(200);
    expect(login.policies?.filter((p) => p !== "default")).toEqual(["tenant-search"]);
  });

  it("shows no changes on a new plan", async () => {
    const plan = await command(PULL, "atlantis plan", /Ran Plan/);
    expect(plan.body).toContain("No changes. Your infrastructure matches the configuration.");
  });

  it("answers the webhook of the closed pull request within GitHub's 10 s (the clone holds a link to the packages)", async () => {
    w.git("merge", "-q", "--no-ff", "-m", "merge #1", "onboard-search");
    w.git("push", "-q", w.github.bareDir, "main:main");
    const closed = await w.github.sendWebhook(w.atlantisUrl, "pull_request", w.github.pullRequestEvent(PULL, "closed"));
    expect(closed.status).toBe(200);
    expect(closed.ms).toBeLessThan(10_000);
  });
});

describe("d and c: a push after approval, and main moving after the plan", () => {
  const PULL = 2;
  let approved: string;
  let head: string;

  it("runs nothing for a push after approval until the new head is approved", async () => {
    approved = commitOn("onboard-reports", "onboard reports", () => writeTenant("reports"));
    expect((await openPull(PULL, "onboard-reports", "Onboard reports")).status).toBe(200);
    approve(PULL, approved);
    head = commitOn("onboard-reports", "reports: a second namespace", () => writeTenant("reports", ["reports", "reports-batch"]));
    const sync = await w.github.sendWebhook(w.atlantisUrl, "pull_request", w.github.pullRequestEvent(PULL, "synchronize"));
    expect(sync.status).toBe(200);
    const refused = await command(PULL, "atlantis plan", /Pre-workflow hook failed/);
    expect(refused.body).toContain(`waiting for an approval of ${head} by a reviewer with write access`);
    expect(w.github.comments(PULL)).toHaveLength(1);
    expect(await mounts()).not.toContain("tenants/reports/kv/");
  });

  it("refuses to apply a plan once main moved, plans the new merge's own synth, then applies", async () => {
    approve(PULL, head);
    const plan = await command(PULL, "atlantis plan", /Ran Plan/);
    expect(plan.body).toContain("Ran Plan for project: `example-tenant-reports`");
    const planned = execFileSync("git", ["rev-parse", "HEAD"], { cwd: w.atlantisClone(PULL), encoding: "utf8" }).trim();
    expect(plan.body).toMatch(new RegExp(`(synthesized for|stacks of) ${planned.slice(0, 12)}`));

    // Main moves (a change that reaches no stack).
    w.git("checkout", "-q", "main");
    writeFileSync(join(w.repo, "docs", "moved.md"), "main moved after the plan\n");
    w.git("add", "-A");
    w.git("commit", "-q", "-m", "docs: main moves");
    w.git("push", "-q", w.github.bareDir, "main:main");
    const mainTip = w.git("rev-parse", "HEAD");

    // Atlantis does not merge again before an apply, and its `undiverged` requirement let this one through:
    // the hook's synth check refuses it before anything runs.
    const refused = await command(PULL, "atlantis apply", /Pre-workflow hook failed/);
    expect(refused.body).toContain(`main moved to ${mainTip.slice(0, 12)} after the plan`);
    expect(refused.body).toContain("nothing was applied");
    expect(await mounts()).not.toContain("tenants/reports/kv/");

    const again = await command(PULL, "atlantis plan", /Ran Plan/);
    const merged = execFileSync("git", ["rev-parse", "HEAD", "HEAD^1", "HEAD^2"], { cwd: w.atlantisClone(PULL), encoding: "utf8" })
      .trim()
      .split("\n");
    expect(merged.slice(1)).toEqual([mainTip, head]);
    expect(again.body).toMatch(new RegExp(`synthesized \\d+ stacks of ${merged[0].slice(0, 12)} into ci-cdktf.out`));

    const apply = await command(PULL, "atlantis apply", /Ran Apply/);
    expect(apply.body).toContain("Apply complete! Resources: 3 added, 0 changed, 0 destroyed.");
    expect(await mounts()).toContain("tenants/reports/kv/");
  });
});

describe("b: a pull request that changes the shared stack and onboards a tenant", () => {
  const PULL = 3;
  let head: string;
  const runnerAuth = () => join(w.repo, "constructs", "runner-auth.ts");

  it("refuses a plain apply before anything is applied while the shared stack has changes only an admin applies", async () => {
    head = commitOn("shared-and-billing", "runner backend description; onboard billing", () => {
      writeFileSync(runnerAuth(), readFileSync(runnerAuth(), "utf8").replace("approved applies (vault-gke)", "approved applies only (vault-gke)"));
      writeTenant("billing");
    });
    expect((await openPull(PULL, "shared-and-billing", "Shared change and billing")).status).toBe(200);
    approve(PULL, head);
    const plan = await command(PULL, "atlantis plan", /Ran Plan for 2 projects/);
    expect(plan.body).toContain("vault-gke: example-shared has 1 change(s) that only an admin applies (vault_jwt_auth_backend.");
    expect(plan.body).toContain("example-tenant-billing");

    const refused = await command(PULL, "atlantis apply", /Pre-workflow hook failed/);
    expect(refused.body).toContain("nothing was applied: example-shared (1 change(s)) must first be applied by an admin");
    expect(await mounts()).not.toContain("tenants/billing/kv/");
  });

  it("applies the tenant and passes the shared stack once an admin applied it and the plan shows no changes", async () => {
    w.git("checkout", "-q", "shared-and-billing");
    try {
      await w.adminApply("example-shared");
    } finally {
      w.git("checkout", "-q", "main");
    }
    const plan = await command(PULL, "atlantis plan", /Ran Plan for 2 projects/);
    expect(plan.body).toContain("vault-gke: example-shared has no changes; 'atlantis apply' passes it without applying anything");
    const apply = await command(PULL, "atlantis apply", /Ran Apply for 2 projects/);
    expect(apply.body).toContain("vault-gke: example-shared has no changes; nothing applied (an admin applies this stack)");
    expect(apply.body).toContain("Apply complete! Resources: 3 added, 0 changed, 0 destroyed.");
    expect(await mounts()).toContain("tenants/billing/kv/");
  });
});

describe("e: offboarding a tenant", () => {
  it("is refused by check-removals until an admin destroyed the tenant's stack; the sidecar then removes its policy", async () => {
    const head = commitOn("offboard-search", "offboard search", () => rmSync(tenantFile("search")));
    w.git("checkout", "-q", "offboard-search");
    try {
      const refused = await w.checkRemovals("main");
      expect(refused.status).toBe(1);
      expect(refused.output).toContain("example-tenant-search");
    } finally {
      w.git("checkout", "-q", "main");
    }
    // Step 1 of the README: the admin destroys the stack while its file still exists (main).
    await w.adminApply("example-tenant-search", "destroy");
    expect(await mounts()).not.toContain("tenants/search/kv/");
    w.git("checkout", "-q", "offboard-search");
    try {
      expect(await w.checkRemovals("main")).toMatchObject({ status: 0 });
    } finally {
      w.git("checkout", "-q", "main");
    }
    expect(head).toMatch(/^[0-9a-f]{40}$/);
    await waitFor(
      "the sidecar to remove tenant-search",
      async () => ((await w.read("sys/policies/acl/tenant-search")).status === 404 ? true : undefined),
      120_000,
      250,
    );
  });
});
