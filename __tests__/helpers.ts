// Shared test helpers: the example environment with overrides, a full synth
// of one environment's stacks into plain JSON objects, and the scripts/ CLIs
// bundled the way `npm run <script>` bundles them.
import { Testing } from "cdktf";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parse } from "yaml";
import { parseEnvironment } from "../config/load";
import type { EnvironmentConfig } from "../config/schema";
import type { TenantConfig } from "../config/tenant-schema";
import { loadTenants } from "../config/load-tenants";
import { buildEnvironmentStacks } from "../stacks/environment-stacks";

export const ROOT = resolve(__dirname, "..");
export const EXAMPLE_FILE = join(ROOT, "environments", "example.yaml");

export function exampleData(): Record<string, unknown> {
  return parse(readFileSync(EXAMPLE_FILE, "utf8")) as Record<string, unknown>;
}

type Overrides = Record<string, unknown>;

/** Deep-merges plain objects; arrays and scalars replace; `undefined` deletes. */
export function merge(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (typeof base !== "object" || base === null || Array.isArray(base)) return over;
  if (typeof over !== "object" || over === null || Array.isArray(over)) return over;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) delete out[k];
    else out[k] = merge(out[k], v);
  }
  return out;
}

export function exampleEnv(overrides: Overrides = {}): EnvironmentConfig {
  return parseEnvironment(merge(exampleData(), overrides), "example.yaml");
}

/** The example environment's tenants (tenants/example/*.yaml). */
export function exampleTenants(env: EnvironmentConfig = exampleEnv()): TenantConfig[] {
  return loadTenants(join(ROOT, "tenants", "example"), env);
}

export type TfJson = {
  resource?: Record<string, Record<string, Record<string, unknown>>>;
  data?: Record<string, Record<string, Record<string, unknown>>>;
  output?: Record<string, { value: unknown; sensitive?: boolean }>;
  variable?: Record<string, { type?: string; sensitive?: boolean; description?: string }>;
  provider?: Record<string, Record<string, unknown>[]>;
  terraform?: Record<string, unknown>;
};

export interface SynthResult {
  platform: TfJson;
  vault: TfJson;
  shared: TfJson;
  /** Each tenant's stack, by tenant name. */
  tenants: Record<string, TfJson>;
  /** The raw cdk.tf.json text of every stack, by stack name, for byte comparisons and scans such as "no token anywhere". */
  text: Record<string, string>;
  /** The stack names in the manifest. */
  manifest: string[];
}

/** Synthesizes one environment the way main.ts does (full app synth, cross-stack outputs included). */
export function synthEnvironment(env: EnvironmentConfig, tenants: readonly TenantConfig[] = []): SynthResult {
  const outdir = mkdtempSync(join(tmpdir(), "vault-gke-synth-"));
  try {
    const app = Testing.app({ outdir, stackTraces: false, stubVersion: true });
    const stacks = buildEnvironmentStacks(app, env, tenants);
    app.synth();
    const manifest = Object.keys((JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")) as { stacks: Record<string, unknown> }).stacks);
    const text = Object.fromEntries(manifest.map((name) => [name, readFileSync(join(outdir, "stacks", name, "cdk.tf.json"), "utf8")]));
    const json = (id: string) => JSON.parse(text[id]) as TfJson;
    return {
      platform: json(stacks.platform.node.id),
      vault: json(stacks.vault.node.id),
      shared: json(stacks.shared.node.id),
      tenants: Object.fromEntries([...stacks.tenants].map(([name, stack]) => [name, json(stack.node.id)])),
      text,
      manifest,
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** All resources of a type, as [name, config] pairs. */
export function resources(tf: TfJson, type: string): [string, Record<string, unknown>][] {
  return Object.entries(tf.resource?.[type] ?? {});
}

/** The single resource of a type whose name contains `part`. */
export function resource(tf: TfJson, type: string, part = ""): Record<string, unknown> {
  const found = resources(tf, type).filter(([name]) => name.includes(part));
  if (found.length !== 1) throw new Error(`expected one ${type} matching '${part}', found ${found.map(([n]) => n).join(", ") || "none"}`);
  return found[0][1];
}

/** Removes cdktf metadata ("//" keys) so snapshots show only Terraform configuration. */
export function withoutMetadata(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutMetadata);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => k !== "//")
      .map(([k, v]) => [k, withoutMetadata(v)]),
  );
}

/** The node arguments that run commands/<name>.ts as `npm run <name>` does (with tsx). */
export function commandArgs(name: string): string[] {
  return [join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"), join(ROOT, "commands", `${name}.ts`)];
}
