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
// (The matching rules are tested in atlantis-patterns.test.ts, the server in atlantis-server.test.ts.)
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
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
import { config, projects, rawRepoConfig, server, serverSideProblems, text } from "./atlantis-fixture";
import { ROOT } from "./helpers";
import { projectMatches } from "./support/atlantis-patterns";

jest.setTimeout(60_000);

// --- the inputs, synthesized once ---
let inputs: AtlantisInputs;
let outdir: string;
let delivery: DeliveryManifest;
let traced: string[];

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

  // A tenant file that declares a database plans the vault stack too: its provisioner policy pins the connection's
  // address (a plan with no database change shows no change there).
  it("plans only its own tenant's project for a tenant file (and the vault stack for one that declares a database), and nothing for README.md", () => {
    const tenantFiles = readdirSync(join(ROOT, "tenants", "example")).filter((f) => f.endsWith(".yaml"));
    expect(tenantFiles.length).toBeGreaterThanOrEqual(2);
    expect([...planned("tenants/example/payments.yaml")].sort()).toEqual(["example-tenant-payments", "example-vault"]);
    expect(planned("tenants/example/search.yaml")).toEqual(["example-tenant-search"]);
    for (const f of tenantFiles) expect(planned(`tenants/example/${f}`)).toContain(`example-tenant-${f.replace(/\.yaml$/, "")}`);
    const [a, b] = tenantFiles.map((f) => new Set(planned(`tenants/example/${f}`).filter((name) => name?.startsWith("example-tenant-"))));
    expect([...a].filter((p) => b.has(p))).toEqual([]);
    expect(planned("README.md")).toEqual([]);
    expect(planned("tenants/README.md")).toEqual([]);
    expect(planned("agent/src/sidecar/main.ts")).toEqual([]);
  });
});
