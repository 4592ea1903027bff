// The GitHub Actions workflows (.github/workflows), parsed with a real YAML
// parser and checked by actionlint (.tools/bin/actionlint, built from the Go
// module proxy by `npm run tools`): every action pinned by a full commit with
// its release in a comment, least-privilege permissions, Workload Identity
// Federation and never a key file, the plan job's read-only settings, the
// deploy job's protected environment and per-environment concurrency, and
// never the shared stack. Also the helper that picks the changed stacks.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { ROOT } from "./helpers";

const DIR = join(ROOT, ".github", "workflows");
const ACTIONLINT = join(ROOT, ".tools", "bin", "actionlint");

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  permissions?: Record<string, string> | string;
  environment?: string;
  concurrency?: { group: string; "cancel-in-progress"?: boolean };
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string> | string;
  jobs: Record<string, Job>;
}

const files = existsSync(DIR) ? readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f)) : [];
const text = (f: string) => readFileSync(join(DIR, f), "utf8");
const workflows: Record<string, Workflow> = Object.fromEntries(files.map((f) => [f, parse(text(f)) as Workflow]));
const runs = (job: Job) => job.steps.map((s) => s.run ?? "").join("\n");

describe("GitHub Actions workflows", () => {
  it("are test, plan, deploy and verify", () => {
    expect(files.sort()).toEqual(["deploy.yml", "plan.yml", "test.yml", "verify.yml"]);
  });

  it("pin every action by a full commit, with the release in a comment", () => {
    for (const f of files) {
      const lines = text(f)
        .split("\n")
        .filter((l) => /^\s*(- )?uses:/.test(l));
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines)
        expect({ f, line }).toEqual({ f, line: expect.stringMatching(/uses: [\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40} # v\d+\.\d+\.\d+$/) });
      for (const job of Object.values(workflows[f].jobs)) for (const s of job.steps) if (s.uses) expect(s.uses).toMatch(/@[0-9a-f]{40}$/);
    }
  });

  it("set least-privilege permissions: read by default, id-token: write only where Google credentials are needed", () => {
    const writers: string[] = [];
    for (const f of files) {
      const wf = workflows[f];
      expect(wf.on).not.toHaveProperty("pull_request_target");
      expect(wf.permissions).toBeDefined();
      for (const [name, job] of Object.entries(wf.jobs)) {
        const perms = job.permissions ?? wf.permissions;
        expect(perms).toBeDefined();
        expect(perms).not.toEqual("write-all");
        expect(perms).not.toEqual("read-all");
        for (const [scope, level] of Object.entries(perms as Record<string, string>)) {
          if (level === "write") writers.push(`${f}:${name}:${scope}`);
          else expect(level).toMatch(/^(read|none)$/);
        }
        const usesGoogle = job.steps.some((s) => s.uses?.startsWith("google-github-actions/auth@"));
        expect({ job: `${f}:${name}`, idToken: (perms as Record<string, string>)["id-token"] === "write" }).toEqual({
          job: `${f}:${name}`,
          idToken: usesGoogle,
        });
      }
    }
    expect(writers.sort()).toEqual(["deploy.yml:deploy:id-token", "plan.yml:plan:id-token", "plan.yml:removals:id-token", "verify.yml:verify:id-token"]);
  });

  it("authenticate to Google through Workload Identity Federation only, never a key file", () => {
    for (const f of files) {
      for (const job of Object.values(workflows[f].jobs)) {
        for (const s of job.steps.filter((x) => x.uses?.startsWith("google-github-actions/auth@"))) {
          expect(s.with?.workload_identity_provider).toBe("${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}");
          expect(s.with).not.toHaveProperty("credentials_json");
        }
      }
      expect(text(f)).not.toMatch(/credentials_json|GOOGLE_CREDENTIALS|secrets\.[A-Z_]*KEY/);
    }
  });

  it("test.yml runs the README's test command on pull requests and main", () => {
    const wf = workflows["test.yml"];
    expect(Object.keys(wf.on).sort()).toEqual(["pull_request", "push"]);
    // The README's second command, read from the README (the fenced line after "passes the tests").
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const command = /```sh\n(npm ci[^\n]*npm test)\n```/.exec(readme)?.[1];
    expect(command).toBe("npm ci --ignore-scripts && npm run tools && npm test");
    expect(runs(wf.jobs.test).split("\n")).toContain(command);
    expect(runs(wf.jobs.test)).toMatch(/sudo apt-get install [^\n]*postgresql/);
  });

  it("test.yml builds both images with a real docker build (no engine runs where the test command runs)", () => {
    const images = runs(workflows["test.yml"].jobs.images);
    expect(images).toContain("docker build --file agent/Dockerfile --tag vault-gke-bootstrap:ci .");
    expect(images).toContain("docker build --tag vault-gke-atlantis:ci deploy/atlantis");
  });

  it("plan.yml plans read-only: plan identity, plan token, -lock=false, no child token, a placeholder password, and checks removals", () => {
    const wf = workflows["plan.yml"];
    expect(Object.keys(wf.on)).toEqual(["pull_request"]);
    const plan = wf.jobs.plan;
    const auth = plan.steps.find((s) => s.uses?.startsWith("google-github-actions/auth@"));
    expect(auth?.with?.service_account).toBe("${{ vars.VAULT_GKE_PLAN_SERVICE_ACCOUNT }}");
    const step = plan.steps.find((s) => s.run?.includes("terraform plan")) as Step;
    expect(step.env?.TERRAFORM_VAULT_SKIP_CHILD_TOKEN).toBe("true");
    expect(step.run).toContain('"$bin/vault-token.sh" plan');
    expect(step.run).toContain('"$bin/postgres-password.sh" plan');
    expect(step.run).toContain("terraform init -input=false -lock=false");
    expect(step.run).toContain("terraform plan -input=false -lock=false");
    expect(step.run).not.toMatch(/\bapply\b/);
    expect(runs(wf.jobs.removals)).toContain('npm run --silent check-removals -- --base "$BASE_SHA"');
    expect(runs(wf.jobs.changed)).toContain(".github/scripts/changed-stacks.sh");
  });

  it("verify.yml runs the verifier on main every 15 minutes, read-only, for every environment", () => {
    const wf = workflows["verify.yml"];
    expect(Object.keys(wf.on).sort()).toEqual(["schedule", "workflow_dispatch"]);
    expect((wf.on as { schedule: { cron: string }[] }).schedule).toEqual([{ cron: "*/15 * * * *" }]);
    const job = wf.jobs.verify;
    expect(job.steps.find((s) => s.uses?.startsWith("actions/checkout@"))?.with?.ref).toBe("main");
    expect(job.steps.find((s) => s.uses?.startsWith("google-github-actions/auth@"))?.with?.service_account).toBe("${{ vars.VAULT_GKE_PLAN_SERVICE_ACCOUNT }}");
    expect(runs(job)).toContain('PROJECT_NAME="$environment-shared" "$bin/verify.sh"');
    expect(runs(job)).toContain("for file in environments/*.yaml");
    expect(runs(job)).not.toMatch(/\bapply\b|vault-token\.sh" apply/);
  });

  it("deploy.yml deploys one environment's stacks in a protected environment, serialized per environment, never the shared stack", () => {
    const wf = workflows["deploy.yml"];
    expect(Object.keys(wf.on).sort()).toEqual(["push", "workflow_dispatch"]);
    const deploy = wf.jobs.deploy;
    expect(deploy.environment).toBe("${{ matrix.environment }}");
    expect(deploy.concurrency).toEqual({ group: "deploy-${{ matrix.environment }}", "cancel-in-progress": false });
    const auth = deploy.steps.find((s) => s.uses?.startsWith("google-github-actions/auth@"));
    expect(auth?.with).toMatchObject({ service_account: "${{ vars.VAULT_GKE_APPLY_SERVICE_ACCOUNT }}" });
    // No ID token minted at the start of a job that may outlast it (an hour): each tenant's login mints its own.
    expect(auth?.with).not.toHaveProperty("token_format");
    const tenantStep = deploy.steps.find((s) => s.run?.includes("deploy-tenants.sh"));
    expect(tenantStep?.env).toEqual({ VAULT_GKE_APPLY_SERVICE_ACCOUNT: "${{ vars.VAULT_GKE_APPLY_SERVICE_ACCOUNT }}" });
    expect(runs(deploy)).toMatch(/npx cdktf deploy --skip-synth --auto-approve "\$platform" "\$vault"/);
    expect(runs(deploy)).toContain(".github/scripts/deploy-tenants.sh");
    const tenants = readFileSync(join(ROOT, ".github", "scripts", "deploy-tenants.sh"), "utf8");
    expect(tenants).toContain(".stacks.tenants[]");
    expect(tenants).toContain('"$bin/vault-token.sh" apply');
    expect(tenants).toContain('"$bin/revoke-token.sh"');
    for (const source of [text("deploy.yml"), tenants]) expect(source).not.toMatch(/stacks\.shared|-shared\b/);
  });

  it("pass actionlint", () => {
    if (!existsSync(ACTIONLINT)) throw new Error(`${ACTIONLINT} is missing: run \`npm run tools\` first`);
    const res = spawnSync(ACTIONLINT, ["-color=false"], { cwd: ROOT, encoding: "utf8" });
    expect(res.stdout + res.stderr).toBe("");
    expect(res.status).toBe(0);
    // And it does catch mistakes: an unknown context and a bad permission scope.
    const dir = mkdtempSync(join(tmpdir(), "vault-gke-actionlint-"));
    try {
      const bad = join(dir, "bad.yml");
      writeFileSync(
        bad,
        "on: push\npermissions:\n  id-tokens: write\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ nope.value }}\n",
      );
      const caught = spawnSync(ACTIONLINT, ["-color=false", bad], { cwd: dir, encoding: "utf8" });
      expect(caught.status).toBe(1);
      expect(caught.stdout).toMatch(/id-tokens/);
      expect(caught.stdout).toMatch(/nope/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe(".github/scripts/changed-stacks.sh", () => {
  const script = join(ROOT, ".github", "scripts", "changed-stacks.sh");
  let dir: string;
  const synth = (name: string, stacks: Record<string, string>) => {
    const out = join(dir, name);
    for (const [stack, json] of Object.entries(stacks)) {
      mkdirSync(join(out, "stacks", stack), { recursive: true });
      writeFileSync(join(out, "stacks", stack, "cdk.tf.json"), json);
    }
    writeFileSync(join(out, "manifest.json"), JSON.stringify({ stacks: Object.fromEntries(Object.keys(stacks).map((s) => [s, {}])) }));
    return out;
  };
  const changed = (base: string, head: string) => {
    const res = spawnSync(script, [base, head], { encoding: "utf8" });
    expect(res.stderr).toBe("");
    return JSON.parse(res.stdout) as string[];
  };

  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "vault-gke-changed-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("lists new and changed stacks, not unchanged or removed ones", () => {
    const base = synth("base", { a: "{}", b: '{"x":1}', gone: "{}" });
    const head = synth("head", { a: "{}", b: '{"x":2}', c: "{}" });
    expect(changed(base, head)).toEqual(["b", "c"]);
    expect(changed(base, base)).toEqual([]);
  });

  it("lists every stack when the base did not synthesize", () => {
    const head = synth("head", { a: "{}", b: "{}" });
    expect(changed(join(dir, "missing"), head)).toEqual(["a", "b"]);
  });
});
