// Renders the repo-level atlantis.yaml (version 3) from what the synth really
// produces and reads:
// - one project per synthesized stack (cdktf's manifest.json plus the delivery
//   manifest that says each stack's kind), whose `dir` is that stack's folder
//   under ci-cdktf.out/, where the Atlantis server's pre-workflow hook
//   synthesizes once per commit (deploy/atlantis/bin/pre-workflow-hook.sh);
// - apply order by execution_order_group (platform 0 < vault 1 < shared 2 <
//   tenants 3), with depends_on as the gate Atlantis checks before each apply;
// - autoplan.when_modified from esbuild's import graph of main.ts: the files
//   reachable from the stack's class module (stacks/<kind>-stack.ts) and from
//   the modules of the stacks it takes cross-stack references from, the spine
//   (what main.ts reaches without entering a stack module), the build inputs,
//   and the data files the reached modules read at run time. Atlantis joins
//   each pattern with the project dir, so they are written as ../../../<file>.
// No workflow, requirement or lock key: those live on the Atlantis server
// (deploy/atlantis/repos.yaml), which refuses them from a repository.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { stringify } from "yaml";
import { DELIVERY_MANIFEST_FILE, type DeliveryManifest, type StackKind } from "../stacks/delivery-manifest";

/** Where the Atlantis server synthesizes (git must not ignore it: Atlantis' CDKTF guidance). */
export const SYNTH_DIR = "ci-cdktf.out";
export const ENTRY = "main.ts";
/** Files that change the synthesized JSON without being imported: the build and the dependency set. */
export const BUILD_INPUTS = ["package.json", "package-lock.json", "tsconfig.json", "cdktf.json", "scripts/build.mjs"] as const;
/** A stack's class module; the spine never enters one. */
export const STACK_MODULE = /^stacks\/[a-z0-9-]+-stack\.ts$/;
export const EXECUTION_ORDER: Readonly<Record<StackKind, number>> = { platform: 0, vault: 1, shared: 2, tenant: 3 };

export interface StackEntry {
  readonly name: string;
  readonly environment: string;
  readonly kind: StackKind;
  readonly tenant?: string;
  /** Stacks this one takes cross-stack references from (cdktf's manifest). */
  readonly dependencies: readonly string[];
  /** A tenant stack that writes database connections (the vault stack pins their addresses). */
  readonly databases?: boolean;
}

/** Each local source file and the local files it imports (esbuild's metafile, repository-relative). */
export type ImportGraph = Readonly<Record<string, readonly string[]>>;

export interface AtlantisInputs {
  readonly stacks: readonly StackEntry[];
  readonly graph: ImportGraph;
}

/**
 * The data files a module reads at run time, for one stack: its environment file, its own tenant file (the vault
 * stack: the tenant files that declare a database, whose connections its provisioner policy pins; a pull request
 * that adds one regenerates this file, so Atlantis plans the vault stack for it), the policies.
 */
export const DATA_READERS: Readonly<Record<string, (stack: StackEntry, all: readonly StackEntry[]) => string[]>> = {
  "config/load.ts": (s) => [`environments/${s.environment}.yaml`],
  "config/load-tenants.ts": (s, all) =>
    s.tenant
      ? [`tenants/${s.environment}/${s.tenant}.yaml`]
      : s.kind === "vault"
        ? all.filter((t) => t.environment === s.environment && t.tenant && t.databases).map((t) => `tenants/${s.environment}/${t.tenant}.yaml`)
        : [],
  "policies/index.ts": () => ["policies/*.hcl"],
};

/** What `from` reaches through the graph (itself included), not entering modules for which `stop` is true. */
export function reachable(graph: ImportGraph, from: string, stop: (file: string) => boolean = () => false): Set<string> {
  if (!(from in graph)) throw new Error(`${from} is not in the import graph of ${ENTRY}; is it still imported?`);
  const seen = new Set<string>();
  const todo = [from];
  while (todo.length > 0) {
    const file = todo.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const next of graph[file] ?? []) if (!stop(next)) todo.push(next);
  }
  return seen;
}

export function stackModule(kind: StackKind): string {
  return `stacks/${kind}-stack.ts`;
}

/** The repository files (and globs) whose change can change one stack's synthesized JSON. */
export function stackInputs(inputs: AtlantisInputs, stack: StackEntry): string[] {
  const byName = new Map(inputs.stacks.map((s) => [s.name, s]));
  const files = reachable(inputs.graph, ENTRY, (f) => STACK_MODULE.test(f));
  // The stack's own module, and those of the stacks it takes cross-stack references from (transitively).
  const seen = new Set<string>();
  const todo = [stack];
  while (todo.length > 0) {
    const s = todo.pop() as StackEntry;
    if (seen.has(s.name)) continue;
    seen.add(s.name);
    for (const f of reachable(inputs.graph, stackModule(s.kind))) files.add(f);
    for (const dep of s.dependencies) {
      const d = byName.get(dep);
      if (!d) throw new Error(`${s.name} depends on ${dep}, which is not a synthesized stack`);
      todo.push(d);
    }
  }
  const data = [...files].flatMap((f) => DATA_READERS[f]?.(stack, inputs.stacks) ?? []);
  return [...new Set([...files, ...data, ...BUILD_INPUTS])].sort();
}

export function projectDir(stackName: string): string {
  return `${SYNTH_DIR}/stacks/${stackName}`;
}

interface AtlantisProject {
  name: string;
  dir: string;
  execution_order_group: number;
  depends_on?: string[];
  autoplan: { enabled: boolean; when_modified: string[] };
}

/** The previous kind in the apply order that a stack of this kind depends on, if that stack exists. */
function gate(stack: StackEntry, all: readonly StackEntry[]): string | undefined {
  const previous: Partial<Record<StackKind, StackKind>> = { vault: "platform", shared: "vault", tenant: "shared" };
  const kind = previous[stack.kind];
  return kind ? all.find((s) => s.environment === stack.environment && s.kind === kind)?.name : undefined;
}

export const HEADER = [
  "# Generated by `npm run atlantis` from the synthesized stacks and esbuild's import graph; do not edit by hand.",
  "# One project per stack, applied in execution_order_group order. Workflows, requirements and the",
  "# pre-workflow hook that synthesizes into ci-cdktf.out/ live on the Atlantis server (deploy/atlantis/).",
].join("\n");

export function renderAtlantisConfig(inputs: AtlantisInputs): string {
  const stacks = [...inputs.stacks].sort(
    (a, b) => a.environment.localeCompare(b.environment) || EXECUTION_ORDER[a.kind] - EXECUTION_ORDER[b.kind] || a.name.localeCompare(b.name),
  );
  const projects: AtlantisProject[] = stacks.map((stack) => {
    const dir = projectDir(stack.name);
    const dependsOn = gate(stack, stacks);
    return {
      name: stack.name,
      dir,
      execution_order_group: EXECUTION_ORDER[stack.kind],
      ...(dependsOn ? { depends_on: [dependsOn] } : {}),
      autoplan: { enabled: true, when_modified: stackInputs(inputs, stack).map((f) => posix.relative(dir, f)) },
    };
  });
  const config = { version: 3, automerge: false, parallel_plan: false, parallel_apply: false, autodiscover: { mode: "disabled" }, projects };
  return `${HEADER}\n${stringify(config, { lineWidth: 0 })}`;
}

/**
 * Bundles main.ts as scripts/build.mjs does (node20, CommonJS, packages left
 * external) and returns the bundle and esbuild's import graph: local files
 * only, packages are pinned by package-lock.json.
 */
export async function bundleMain(root: string): Promise<{ code: string; graph: ImportGraph }> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: [ENTRY],
    outfile: "main.js",
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    packages: "external",
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  const graph = Object.fromEntries(
    Object.entries(result.metafile.inputs).map(([file, input]) => [file, input.imports.filter((i) => !i.external).map((i) => i.path)]),
  );
  return { code: result.outputFiles[0].text, graph };
}

interface CdktfManifest {
  stacks: Record<string, { name: string; dependencies: string[]; workingDirectory: string }>;
}

/** Reads cdktf's manifest and the delivery manifest of a synthesized folder. */
export function synthesizedStacks(outdir: string): StackEntry[] {
  const cdktf = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")) as CdktfManifest;
  const delivery = JSON.parse(readFileSync(join(outdir, DELIVERY_MANIFEST_FILE), "utf8")) as DeliveryManifest;
  return Object.values(cdktf.stacks).map((s) => {
    const d = delivery.stacks[s.name];
    if (!d) throw new Error(`${s.name} is in manifest.json but not in ${DELIVERY_MANIFEST_FILE}; rerun the synth`);
    const tf = d.tenant ? (JSON.parse(readFileSync(join(outdir, s.workingDirectory, "cdk.tf.json"), "utf8")) as { resource?: Record<string, object> }) : {};
    const databases = Object.keys(tf.resource?.vault_database_secret_backend_connection ?? {}).length > 0;
    return {
      name: s.name,
      environment: d.environment,
      kind: d.kind,
      ...(d.tenant ? { tenant: d.tenant } : {}),
      dependencies: [...s.dependencies],
      ...(databases ? { databases } : {}),
    };
  });
}

/**
 * Runs a bundle of main.ts into a temporary synth folder (the caller removes
 * it). The bundle lives in a private folder directly under the root, so that
 * its ../ is the root as dist/main.js's is, and parallel runs never rewrite a
 * file another one is executing. `nodeArgs` go before the bundle (a --require).
 */
export function synthesizeWith(root: string, code: string, nodeArgs: readonly string[] = []): string {
  const outdir = mkdtempSync(join(tmpdir(), "vault-gke-atlantis-"));
  const work = mkdtempSync(join(root, ".vault-gke-synth-"));
  try {
    writeFileSync(join(work, "main.js"), code);
    execFileSync(process.execPath, [...nodeArgs, join(work, "main.js")], {
      cwd: root,
      env: { ...process.env, CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: "1" },
      stdio: ["ignore", "ignore", "inherit"],
    });
    return outdir;
  } catch (error) {
    rmSync(outdir, { recursive: true, force: true });
    throw error;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Synthesizes the project as `npm run synth` does, into a temporary folder (the caller removes it). */
export async function synthesizeTo(root: string): Promise<string> {
  return synthesizeWith(root, (await bundleMain(root)).code);
}

/** Everything renderAtlantisConfig needs, from a fresh synth and the import graph; returns the synth folder and the bundle too. */
export async function collectAtlantisInputs(root: string): Promise<{ inputs: AtlantisInputs; outdir: string; code: string }> {
  const { code, graph } = await bundleMain(root);
  const outdir = synthesizeWith(root, code);
  return { inputs: { stacks: synthesizedStacks(outdir), graph }, outdir, code };
}
