// The Atlantis configuration, read as Atlantis v0.47 reads it:
// - atlantis.yaml is what `npm run atlantis` generates (in sync), passes a
//   strict schema of Atlantis' raw repo config and the server-side rules of
//   deploy/atlantis/repos.yaml (no workflow, no requirement, no override);
// - one project per synthesized stack, whose dir exists in the synth output,
//   applied in the order platform < vault < shared < tenants;
// - every tracked file the synth reads (esbuild's import graph plus the files
//   the synth opens at run time, traced, not listed by hand) triggers at least
//   one project under Atlantis' matching rules (support/atlantis-patterns.ts);
//   a tenant file triggers only its tenant's project; README.md nothing;
// - the server-side repos.yaml and the image (parsed, it cannot be built here)
//   keep their promises: no custom workflow, the approval-gated synth hook,
//   no lifecycle script anywhere.
import { execFileSync, spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import {
  BUILD_INPUTS,
  collectAtlantisInputs,
  EXECUTION_ORDER,
  projectDir,
  renderAtlantisConfig,
  SYNTH_DIR,
  synthesizeWith,
  type AtlantisInputs,
} from "../scripts/atlantis-config";
import { DELIVERY_MANIFEST_FILE, type DeliveryManifest } from "../stacks/delivery-manifest";
import { ROOT } from "./helpers";
import { cleanPath, joinPath, matchesOrParentMatches, projectMatches } from "./support/atlantis-patterns";

jest.setTimeout(60_000);

// --- Atlantis' raw repo config (server/core/config/raw, v0.47.1): every key it decodes, strictly ---
const requirement = z.enum(["approved", "mergeable", "undiverged", "policies_passed"]);
const repoLocks = z.strictObject({ mode: z.enum(["disabled", "on_plan", "on_apply"]) });
const rawStep = z.union([z.string(), z.record(z.string(), z.unknown())]);
const rawStage = z.strictObject({ steps: z.array(rawStep) });
const rawWorkflow = z.strictObject({
  plan: rawStage.optional(),
  apply: rawStage.optional(),
  policy_check: rawStage.optional(),
  import: rawStage.optional(),
  state_rm: rawStage.optional(),
});
const rawProject = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9._~\-/]+$/)
    .optional(),
  branch: z
    .string()
    .regex(/^\/.*\/$/)
    .optional(),
  dir: z.string().refine((d) => !d.includes(".."), "cannot contain '..'"),
  workspace: z.string().optional(),
  workflow: z.string().optional(),
  terraform_distribution: z.enum(["terraform", "opentofu"]).optional(),
  terraform_version: z.string().optional(),
  autoplan: z.strictObject({ when_modified: z.array(z.string()).optional(), enabled: z.boolean().optional() }).optional(),
  plan_requirements: z.array(requirement).optional(),
  apply_requirements: z.array(requirement).optional(),
  import_requirements: z.array(requirement).optional(),
  depends_on: z.array(z.string()).optional(),
  delete_source_branch_on_merge: z.boolean().optional(),
  repo_locking: z.boolean().optional(),
  repo_locks: repoLocks.optional(),
  execution_order_group: z.number().int().optional(),
  policy_check: z.boolean().optional(),
  custom_policy_check: z.boolean().optional(),
  silence_pr_comments: z.array(z.enum(["plan", "apply"])).optional(),
});
const rawRepoConfig = z.strictObject({
  version: z.union([z.literal(2), z.literal(3)]),
  projects: z.array(rawProject).optional(),
  workflows: z.record(z.string(), rawWorkflow).optional(),
  policies: z.unknown().optional(),
  autodiscover: z.strictObject({ mode: z.enum(["auto", "enabled", "disabled"]).optional(), ignore_paths: z.array(z.string()).optional() }).optional(),
  automerge: z.boolean().optional(),
  parallel_apply: z.boolean().optional(),
  parallel_plan: z.boolean().optional(),
  delete_source_branch_on_merge: z.boolean().optional(),
  emoji_reaction: z.string().optional(),
  allowed_regexp_prefixes: z.array(z.string()).optional(),
  abort_on_execution_order_fail: z.boolean().optional(),
  repo_locks: repoLocks.optional(),
  silence_pr_comments: z.array(z.enum(["plan", "apply"])).optional(),
});
type RawRepoConfig = z.infer<typeof rawRepoConfig>;

// --- Atlantis' raw server-side config (the keys vault-gke may use), strictly ---
const hook = z.strictObject({
  run: z.string(),
  description: z.string().optional(),
  shell: z.string().optional(),
  shellArgs: z.string().optional(),
  commands: z.string().optional(),
});
const serverRepo = z.strictObject({
  id: z.string(),
  branch: z.string().optional(),
  repo_config_file: z.string().optional(),
  plan_requirements: z.array(requirement).optional(),
  apply_requirements: z.array(requirement).optional(),
  import_requirements: z.array(requirement).optional(),
  pre_workflow_hooks: z.array(hook).optional(),
  post_workflow_hooks: z.array(hook).optional(),
  workflow: z.string().optional(),
  allowed_workflows: z.array(z.string()).optional(),
  allowed_overrides: z.array(z.string()).optional(),
  allow_custom_workflows: z.boolean().optional(),
  delete_source_branch_on_merge: z.boolean().optional(),
  repo_locks: repoLocks.optional(),
  policy_check: z.boolean().optional(),
  custom_policy_check: z.boolean().optional(),
});
const serverConfig = z.strictObject({ repos: z.array(serverRepo), workflows: z.record(z.string(), rawWorkflow).optional() });
type ServerConfig = z.infer<typeof serverConfig>;

/** The checks Atlantis' ValidateRepoCfg makes of a repository's file against the server-side config. */
function serverSideProblems(repoCfg: RawRepoConfig, server: ServerConfig): string[] {
  const repo = server.repos[server.repos.length - 1];
  const allowed = repo.allowed_overrides ?? [];
  const problems: string[] = [];
  const gated = [
    "workflow",
    "apply_requirements",
    "plan_requirements",
    "import_requirements",
    "delete_source_branch_on_merge",
    "repo_locking",
    "repo_locks",
    "custom_policy_check",
    "silence_pr_comments",
  ] as const;
  for (const p of repoCfg.projects ?? []) {
    for (const key of gated) if (p[key] !== undefined && !allowed.includes(key)) problems.push(`${p.name}: repo config not allowed to set '${key}' key`);
  }
  if (Object.keys(repoCfg.workflows ?? {}).length > 0 && repo.allow_custom_workflows !== true)
    problems.push("repo config not allowed to define custom workflows");
  return problems;
}

// --- the inputs, synthesized once ---
let inputs: AtlantisInputs;
let outdir: string;
let delivery: DeliveryManifest;
let traced: string[];
const text = readFileSync(join(ROOT, "atlantis.yaml"), "utf8");
const config = rawRepoConfig.parse(parse(text));
const projects = config.projects ?? [];
const server = serverConfig.parse(parse(readFileSync(join(ROOT, "deploy", "atlantis", "repos.yaml"), "utf8")));

/** The files the synth opens or lists at run time (a preload wraps node:fs), relative to the root. */
function traceSynthReads(code: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), "vault-gke-trace-"));
  try {
    const tracer = join(dir, "trace.js");
    const out = join(dir, "reads.json");
    writeFileSync(
      tracer,
      `const fs = require("node:fs"); const path = require("node:path"); const seen = new Set();
for (const name of ["readFileSync", "readdirSync", "openSync", "existsSync", "statSync"]) {
  const original = fs[name];
  fs[name] = function (p, ...rest) { if (typeof p === "string") seen.add(path.resolve(p)); return original.call(this, p, ...rest); };
}
process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(out)}, JSON.stringify([...seen])));`,
    );
    rmSync(synthesizeWith(ROOT, code, ["--require", tracer]), { recursive: true, force: true });
    return (JSON.parse(readFileSync(out, "utf8")) as string[])
      .map((f) => relative(ROOT, f))
      .filter((f) => !f.startsWith("..") && !f.startsWith("node_modules/") && !f.startsWith(".vault-gke-synth-") && f !== "");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const tracked = new Set(execFileSync("git", ["ls-files"], { cwd: ROOT, encoding: "utf8" }).split("\n").filter(Boolean));
const planned = (file: string) => projects.filter((p) => projectMatches(p, file)).map((p) => p.name);

beforeAll(async () => {
  let code: string;
  ({ inputs, outdir, code } = await collectAtlantisInputs(ROOT));
  delivery = JSON.parse(readFileSync(join(outdir, DELIVERY_MANIFEST_FILE), "utf8")) as DeliveryManifest;
  traced = traceSynthReads(code);
});

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe("Atlantis' when_modified matching (support/atlantis-patterns.ts)", () => {
  it.each([
    ["**", "file", true],
    ["**", "dir/file", true],
    ["dir/**", "dir/dir2/file", true],
    ["abc/**", "abc", false],
    ["**/dir", "dir/file", true],
    ["**/dir2/*", "dir/dir2/file", true],
    ["**/file", "dir/dir/file", true],
    ["**/*.txt", "file.txt", true],
    ["**/**/*.txt2", "dir/dir/file.txt", false],
    ["a/*.txt", "a/dir/file.txt", false],
    ["a/*.txt", "a/file.txt", true],
    ["a**/*.txt", "a/dir/dir/file.txt", true],
    ["a[b-d]e", "ace", true],
    ["a[b-d]e", "aae", false],
    [".*", "foo", false],
    ["abc.def", "abcZdef", false],
    ["abc?def", "abcZdef", true],
    ["**/.foo", "bar.foo", false],
    ["a(b)c/def", "a(b)c/def", true],
    ["stacks/*.ts", "stacks/vault-stack.ts", true],
    ["stacks/*.ts", "stacks/sub/x.ts", false],
    ["stacks", "stacks/vault-stack.ts", true],
  ])("pattern %s on %s: %s", (pattern, file, expected) => {
    expect(matchesOrParentMatches([pattern], file)).toBe(expected);
  });

  it("applies exclusions in order", () => {
    expect(matchesOrParentMatches(["**", "!util/docker/web"], "util/docker/web/foo")).toBe(false);
    expect(matchesOrParentMatches(["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo")).toBe(true);
  });

  it("joins patterns with the project dir and cleans them, as filepath.Join does", () => {
    expect(cleanPath("a/b/../../c/./d//e")).toBe("c/d/e");
    expect(cleanPath("../../x")).toBe("../../x");
    expect(joinPath("ci-cdktf.out/stacks/s", "../../../main.ts")).toBe("main.ts");
    expect(projectMatches({ dir: "ci-cdktf.out/stacks/s", autoplan: { when_modified: ["../../../policies/*.hcl"] } }, "policies/admin.hcl")).toBe(true);
    expect(projectMatches({ dir: "ci-cdktf.out/stacks/s", autoplan: { when_modified: ["policies/*.hcl"] } }, "policies/admin.hcl")).toBe(false);
  });
});

describe("atlantis.yaml", () => {
  it("is what `npm run atlantis` generates from the synth and the import graph", () => {
    expect(text).toBe(renderAtlantisConfig(inputs));
  });

  it("passes Atlantis' strict repo config schema and the server-side rules: no workflow, requirement or override", () => {
    expect(serverSideProblems(config, server)).toEqual([]);
    expect(config.workflows).toBeUndefined();
    for (const p of projects) expect(Object.keys(p).sort()).toEqual(expect.arrayContaining(["autoplan", "dir", "execution_order_group", "name"]));
    expect(new Set(projects.map((p) => p.name)).size).toBe(projects.length);
    // And the checks would catch the old file's mistakes.
    const old = rawRepoConfig.parse({
      version: 3,
      projects: [{ name: "x", dir: ".", workflow: "cdktf", apply_requirements: ["approved"] }],
      workflows: { cdktf: {} },
    });
    expect(serverSideProblems(old, server)).toHaveLength(3);
  });

  it("has exactly one project per synthesized stack, whose dir exists in the synth output", () => {
    const stacks = inputs.stacks.map((s) => s.name).sort();
    expect(projects.map((p) => p.name).sort()).toEqual(stacks);
    expect(stacks).toEqual(Object.keys(delivery.stacks).sort());
    for (const p of projects) {
      expect(p.dir).toBe(projectDir(p.name as string));
      expect(existsSync(join(outdir, relative(SYNTH_DIR, p.dir), "cdk.tf.json"))).toBe(true);
    }
    expect(stacks).toEqual(expect.arrayContaining(["example-tenant-payments", "example-tenant-search"]));
  });

  it("keeps the synth folder out of .gitignore (Atlantis' CDKTF guidance)", () => {
    const ignored = spawnSync("git", ["check-ignore", "-q", `${SYNTH_DIR}/stacks/example-vault/cdk.tf.json`], { cwd: ROOT });
    expect(ignored.status).toBe(1);
  });

  it("applies in the order platform < vault < shared < tenants, each gated on the previous stack", () => {
    const group = (name: string) => projects.find((p) => p.name === name)?.execution_order_group as number;
    for (const [name, stack] of Object.entries(delivery.stacks)) expect(group(name)).toBe(EXECUTION_ORDER[stack.kind]);
    for (const env of Object.values(delivery.environments)) {
      const { platform, vault, shared, tenants } = env.stacks;
      expect(group(platform)).toBeLessThan(group(vault));
      expect(group(vault)).toBeLessThan(group(shared));
      for (const t of tenants) expect(group(shared)).toBeLessThan(group(t));
      const dependsOn = (name: string) => projects.find((p) => p.name === name)?.depends_on;
      expect(dependsOn(platform)).toBeUndefined();
      expect(dependsOn(vault)).toEqual([platform]);
      expect(dependsOn(shared)).toEqual([vault]);
      for (const t of tenants) expect(dependsOn(t)).toEqual([shared]);
    }
    expect(config.parallel_apply).toBe(false);
  });

  it("plans some project for every tracked file the synth reads (import graph and traced reads)", () => {
    const graphFiles = Object.keys(inputs.graph);
    expect(graphFiles).toEqual(expect.arrayContaining(["main.ts", "stacks/vault-stack.ts", "policies/index.ts"]));
    // The trace sees the data files: environments, tenants, policies (a sanity check that tracing works).
    expect(traced).toEqual(expect.arrayContaining(["environments/example.yaml", "tenants/example/payments.yaml", "policies/admin.hcl"]));
    const reads = [...new Set([...graphFiles, ...traced, ...BUILD_INPUTS])].filter((f) => tracked.has(f)).sort();
    expect(reads.length).toBeGreaterThan(40);
    const unmatched = reads.filter((f) => planned(f).length === 0);
    expect(unmatched).toEqual([]);
  });

  it("plans the vault stack for what it imports and reads, which the old file missed", () => {
    for (const f of ["stacks/platform-stack.ts", "policies/index.ts", "policies/provisioner.hcl", "constructs/vault-stateful-set.ts"])
      expect(planned(f)).toContain("example-vault");
    for (const f of ["scripts/build.mjs", "tsconfig.json", "cdktf.json", "package-lock.json", "main.ts", "environments/example.yaml"]) {
      expect(planned(f).sort()).toEqual(projects.map((p) => p.name).sort());
    }
    expect(planned("policies/admin.hcl")).toEqual(["example-vault"]);
  });

  it("plans only its own tenant's project for a tenant file, and nothing for README.md", () => {
    const tenantFiles = readdirSync(join(ROOT, "tenants", "example")).filter((f) => f.endsWith(".yaml"));
    expect(tenantFiles.length).toBeGreaterThanOrEqual(2);
    for (const f of tenantFiles) expect(planned(`tenants/example/${f}`)).toEqual([`example-tenant-${f.replace(/\.yaml$/, "")}`]);
    const [a, b] = tenantFiles.map((f) => new Set(planned(`tenants/example/${f}`)));
    expect([...a].filter((p) => b.has(p))).toEqual([]);
    expect(planned("README.md")).toEqual([]);
    expect(planned("tenants/README.md")).toEqual([]);
    expect(planned("agent/src/sidecar/main.ts")).toEqual([]);
  });
});

describe("the Atlantis server (deploy/atlantis)", () => {
  const repo = server.repos[0];
  const bin = join(ROOT, "deploy", "atlantis", "bin");
  const commands = () => {
    const out: string[] = [...(repo.pre_workflow_hooks ?? []).map((h) => h.run)];
    for (const wf of Object.values(server.workflows ?? {})) {
      for (const stage of Object.values(wf)) {
        for (const step of stage?.steps ?? []) {
          if (typeof step === "string") continue;
          const s = step as { run?: string | { command: string }; env?: { command?: string } };
          if (typeof s.run === "string") out.push(s.run);
          else if (s.run?.command) out.push(s.run.command);
          if (s.env?.command) out.push(s.env.command);
        }
      }
    }
    return out;
  };

  it("lets the repository define no workflow and override nothing", () => {
    expect(repo.allow_custom_workflows).toBe(false);
    expect(repo.allowed_overrides ?? []).toEqual([]);
    expect(repo.workflow).toBe("vault-gke");
    expect(Object.keys(server.workflows ?? {})).toEqual(["vault-gke"]);
    expect(repo.apply_requirements).toEqual(["approved", "mergeable", "undiverged"]);
  });

  it("gates every command that runs pull-request code behind the hook that checks the approval and synthesizes once", () => {
    const hooks = repo.pre_workflow_hooks ?? [];
    expect(hooks.map((h) => h.run)).toEqual(["/opt/vault-gke/bin/pre-workflow-hook.sh"]);
    const gated = (hooks[0].commands ?? "").split(",");
    expect(gated).toEqual(expect.arrayContaining(["plan", "apply", "import", "state"]));
    expect(gated).not.toContain("unlock");
    expect(readFileSync(join(bin, "pre-workflow-hook.sh"), "utf8")).toMatch(/\$\(dirname "\$0"\)\/synth\.sh" "\$mode"/);
    const script = readFileSync(join(bin, "synth.sh"), "utf8");
    expect(script).toContain(`SYNTH_DIR=${SYNTH_DIR}\n`);
    expect(script).toMatch(/CDKTF_OUTDIR=\$repo\/\$SYNTH_DIR/);
    expect(script).toMatch(/npm ci --ignore-scripts/);
    expect(script).toMatch(/npm run --ignore-scripts --silent synth/);
  });

  // Atlantis merges a moved main again right before each project's plan; it never does before an apply.
  it("plans only the synth of the commit the clone is at, and applies only such plans", () => {
    const wf = server.workflows?.["vault-gke"];
    expect(wf?.plan?.steps[0]).toEqual({ run: "/opt/vault-gke/bin/synth.sh ensure" });
    expect(wf?.apply?.steps[0]).toEqual({ run: "/opt/vault-gke/bin/synth.sh check" });
  });

  // Autoplan could only fail: no push is approved at its new head. --disable-autoplan also skips the hooks on push.
  it("runs no autoplan, so a push before approval posts no failed hook or plan status", () => {
    const dockerfile = readFileSync(join(ROOT, "deploy", "atlantis", "Dockerfile"), "utf8");
    expect(/\bATLANTIS_DISABLE_AUTOPLAN=(\S+)/.exec(dockerfile)?.[1]).toBe("true");
  });

  // The apply is apply.sh: Atlantis' built-in apply would apply the shared stack's plan too (admin only).
  it("uses Atlantis' built-in init and plan steps, apply.sh to apply, and only scripts the image ships", () => {
    const wf = server.workflows?.["vault-gke"];
    const builtIns = (stage?: { steps: unknown[] }) => (stage?.steps ?? []).filter((s) => typeof s === "string");
    expect(builtIns(wf?.plan)).toEqual(["init", "plan"]);
    expect(builtIns(wf?.apply)).toEqual([]);
    expect(wf?.apply?.steps).toContainEqual({ run: "/opt/vault-gke/bin/apply.sh" });
    expect(wf?.plan?.steps.at(-1)).toEqual({ run: "/opt/vault-gke/bin/admin-changes.sh" });
    for (const command of commands()) {
      const m = /^\/opt\/vault-gke\/bin\/([a-z-]+\.sh)( (plan|apply|ensure|check))?$/.exec(command);
      expect(m).not.toBeNull();
      const file = join(bin, (m as RegExpExecArray)[1]);
      accessSync(file, constants.X_OK);
      expect(readFileSync(file, "utf8")).toMatch(/^#!\/usr\/bin\/env bash\n#[^\n]+\n[\s\S]*?\nset -euo pipefail\n/);
    }
  });

  it("runs no lifecycle script anywhere: npm ci always with --ignore-scripts, never npm install", () => {
    const files = [
      join(ROOT, "deploy", "atlantis", "repos.yaml"),
      ...readdirSync(bin).map((f) => join(bin, f)),
      ...(existsSync(join(ROOT, ".github", "workflows"))
        ? readdirSync(join(ROOT, ".github", "workflows")).map((f) => join(ROOT, ".github", "workflows", f))
        : []),
    ];
    for (const file of files) {
      const content = readFileSync(file, "utf8");
      for (const m of content.matchAll(/npm (ci|install|i|add)\b[^\n]*/g)) {
        expect({ file: relative(ROOT, file), command: m[0] }).toEqual({
          file: relative(ROOT, file),
          command: expect.stringMatching(/^npm ci --ignore-scripts\b/),
        });
      }
    }
  });

  it("ships an image (parsed: it cannot be built here) with the pinned Atlantis, Node.js 22, gcloud, jq, the config and the scripts", () => {
    const dockerfile = readFileSync(join(ROOT, "deploy", "atlantis", "Dockerfile"), "utf8");
    const arg = (name: string) => new RegExp(`^ARG ${name}=(\\S+)$`, "m").exec(dockerfile)?.[1];
    expect(arg("ATLANTIS_IMAGE")).toMatch(/^ghcr\.io\/runatlantis\/atlantis:v0\.47\.1(-debian)?(@sha256:[0-9a-f]{64})?$/);
    expect(arg("NODE_IMAGE")).toMatch(/^node:22[.-]/);
    const froms = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(froms[froms.length - 1]).toBe("${ATLANTIS_IMAGE}");
    expect(dockerfile).toMatch(/node --version \| grep -q '\^v22\\\.'/);
    expect(dockerfile).toMatch(/google-cloud-cli=\$\{GOOGLE_CLOUD_CLI_VERSION\}/);
    expect(dockerfile).toMatch(/apt-get install[^\n]* jq /);
    const env = (name: string) => new RegExp(`\\b${name}=(\\S+)`).exec(dockerfile)?.[1];
    expect(env("ATLANTIS_REPO_CONFIG")).toBe("/etc/atlantis/repos.yaml");
    expect(env("ATLANTIS_FAIL_ON_PRE_WORKFLOW_HOOK_ERROR")).toBe("true");
    expect(env("ATLANTIS_TF_DOWNLOAD")).toBe("false");
    expect(dockerfile).toMatch(/^COPY [^\n]*repos\.yaml \/etc\/atlantis\/repos\.yaml$/m);
    expect(dockerfile).toMatch(/^COPY [^\n]*--chmod=0555 bin\/ \/opt\/vault-gke\/bin\/$/m);
    const users = [...dockerfile.matchAll(/^USER (\S+)$/gm)].map((m) => m[1]);
    expect(users[users.length - 1]).toBe("atlantis");
  });

  it("resolves every project's dir and patterns inside the repository", () => {
    for (const p of projects) {
      for (const wm of p.autoplan?.when_modified ?? []) expect(resolve(ROOT, joinPath(p.dir, wm)).startsWith(`${ROOT}/`)).toBe(true);
    }
  });
});
