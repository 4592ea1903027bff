// A tenant's pull request through the real Atlantis server of the end-to-end
// test (__tests__/e2e/world.ts: Atlantis v0.47.1, the hook and step scripts,
// Terraform with the vendored providers, OpenBao with the sidecar): from the
// approver's `atlantis plan` comment to Atlantis' plan comment, and from
// `atlantis apply` to its apply comment, 5 pull requests each adding a tenant,
// with the example tenants on main and again with 10,000 generated ones.
// The hook's share comes from the commit statuses Atlantis sets around it.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startE2eWorld, type E2eWorld } from "../../__tests__/e2e/world";
import { fmt, median, runMeasured } from "./measure";
import { writeTenants } from "./tenants";

const RUNS = 5;
const HOOK = "atlantis/pre_workflow_hook: vault-gke approval gate and synth";

/** The example's own tenant files (tenants/example/*.yaml). */
function seedExample(root: string) {
  return (tenants: string) => {
    mkdirSync(join(tenants, "example"), { recursive: true });
    for (const file of readdirSync(join(root, "tenants", "example")).filter((f) => f.endsWith(".yaml")))
      copyFileSync(join(root, "tenants", "example", file), join(tenants, "example", file));
  };
}

/** N generated tenants, as the tenants section generates them (every third with a transit key, every tenth with PostgreSQL). */
function seed(n: number) {
  return (tenants: string) => writeTenants(tenants, n);
}

async function timedCommand(w: E2eWorld, pull: number, body: string, reply: RegExp): Promise<number> {
  const since = w.github.comments(pull).length;
  const start = Date.now();
  await w.github.sendWebhook(w.atlantisUrl, "issue_comment", w.github.issueCommentEvent(pull, body, "alice"));
  const comment = await w.github.waitForComment(pull, (c) => reply.test(c.body), 600_000, since);
  if (/Error|Failed/.test(comment.body.split("\n")[0])) throw new Error(`${body} failed: ${comment.body.slice(0, 2000)}`);
  return comment.at - start;
}

async function scale(label: string, seedTenants: (dir: string) => void, root: string): Promise<string[]> {
  const w = await startE2eWorld({ seedTenants });
  try {
    await w.adminApply("example-shared");
    const plans: number[] = [];
    const applies: number[] = [];
    const hooks: number[] = [];
    for (let i = 1; i <= RUNS; i++) {
      const branch = `bench-${i}`;
      const tenant = `bench-${i}`;
      w.git("checkout", "-q", "-b", branch, "main");
      mkdirSync(join(w.repo, "tenants", "example"), { recursive: true });
      writeFileSync(
        join(w.repo, "tenants", "example", `${tenant}.yaml`),
        `name: ${tenant}\ncluster: apps-prod\nnamespaces: [${tenant}]\nserviceAccounts: [api]\n`,
      );
      w.regenerateAtlantisYaml();
      w.git("add", "-A");
      w.git("commit", "-q", "-m", tenant);
      const head = w.git("rev-parse", "HEAD");
      w.git("push", "-q", w.github.bareDir, `${branch}:${branch}`);
      w.git("checkout", "-q", "main");
      w.github.setPull({ number: i, headRef: branch, baseRef: "main", title: tenant, author: "bob" });
      w.github.permissions.alice = "write";
      w.github.reviews[i] = [
        { user: { login: "alice" }, state: "APPROVED", commit_id: head, author_association: "MEMBER", submitted_at: new Date().toISOString() },
      ];
      plans.push(await timedCommand(w, i, "atlantis plan", /Ran Plan/));
      const hook = w.github.statuses(head).filter((s) => s.context === HOOK);
      hooks.push((hook.find((s) => s.state === "success")?.at ?? NaN) - (hook.find((s) => s.state === "pending")?.at ?? NaN));
      applies.push(await timedCommand(w, i, "atlantis apply", /Ran Apply/));
    }
    // The synth alone at this scale, as the hook runs it (peak RSS of the node process).
    const synth = runMeasured("node", ["dist/main.js"], {
      cwd: root,
      env: { CDKTF_OUTDIR: join(w.work, "bench-synth"), VAULT_GKE_ENVIRONMENTS: join(w.repo, "environments"), VAULT_GKE_TENANTS: join(w.repo, "tenants") },
      nodeRss: true,
    });
    const s = (ms: number) => fmt(ms / 1000, 1);
    console.log(
      `${label}: plan ${plans.map(s).join(", ")} s; hook ${hooks.map(s).join(", ")} s; apply ${applies.map(s).join(", ")} s; synth ${s(synth.wallMs)} s / ${fmt(synth.peakRssMb ?? NaN)} MB`,
    );
    return [
      `| ${label} | ${s(median(plans))} (${plans.map(s).join(", ")}) | ${s(median(hooks))} | ${s(median(plans) - median(hooks))} | ${s(median(applies))} (${applies.map(s).join(", ")}) | ${s(synth.wallMs)} / ${fmt(synth.peakRssMb ?? NaN)} |`,
    ];
  } finally {
    await w.teardown();
  }
}

export async function pullRequestBench(root: string): Promise<string> {
  execFileSync("node", ["scripts/build.mjs"], { cwd: root });
  const rows = [...(await scale("the example tenants (2)", seedExample(root), root)), ...(await scale("10,000 tenants", seed(10_000), root))];
  return `## A tenant's pull request through Atlantis

The end-to-end test's world (real Atlantis v0.47.1 with the project's hook and steps, Terraform 1.11 with the vendored providers,
the gcs backend on fake-gcs-server, OpenBao with the sidecar); ${RUNS} pull requests per row, each adding one tenant, approved, then
\`atlantis plan\` and \`atlantis apply\` as comments. The package cache already holds this lock file (a new lock file adds the
install: see the atlantis-hook section). Goals: plan comment within 20 s (example) and 60 s (10,000 tenants), synth under 1 GB.

| main holds | \`atlantis plan\` to plan comment, median s (runs) | of which the hook (approval check, install, synth), median s | the plan steps (terraform init, plan, Atlantis), s | \`atlantis apply\` to apply comment, median s (runs) | synth alone: s / peak RSS MB |
| --- | --- | --- | --- | --- | --- |
${rows.join("\n")}`;
}
