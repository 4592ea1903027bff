// Every `throw new Error` in constructs/ and stacks/ is walked here, one case
// each: the case trips the throw (so it is about that throw), then shows why no
// environment valid to the config layer reaches it. Either the schema (or the
// tenant loader) refuses every input that would reach it, with the file, line,
// field, value and fix, or the stacks never hand the construct such a value
// (a guard, a constant). A throw that a valid environment reached would be a
// hidden combination: its rule belongs in the schema (config/schema/rules.ts),
// and main.ts would report it against the environment file (last test). The
// sources are read, so a new throw without an entry here fails the first test.
// The cases live beside this file by kind: validation-walks-schema.ts, validation-walks-tenant.ts and
// validation-walks-stacks.ts (valid props and the case type in validation-walk-fixture.ts).
import { Testing } from "cdktf";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { ConfigError, loadEnvironmentFile } from "../../config/load";
import { loadTenantFile } from "../../config/load-tenants";
import { buildProjectStacks } from "../../stacks/environment-stacks";
import { exampleData, exampleEnv, merge, ROOT } from "../helpers";
import type { Overrides, Walk } from "./validation-walk-fixture";
import { SCHEMA_REFUSED } from "./validation-walks-schema";
import { STACK_GUARDED } from "./validation-walks-stacks";
import { TENANT_REFUSED } from "./validation-walks-tenant";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "vault-gke-walk-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One problem line of a config error: the file, line and column, the field, and the rest of the sentence. */
function problemNaming(load: () => unknown, file: string, field: string): string {
  let problems: string[] = [];
  try {
    load();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems = [...error.problems];
  }
  const line = problems.find((p) => p.includes(`: ${field}: `));
  if (!line) throw new Error(`no problem names ${field}:\n${problems.join("\n") || "(the file loaded)"}`);
  expect(line).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+:\\d+: ${field.replace(/[.[\]]/g, "\\$&")}: `));
  expect(line).not.toMatch(/\n|\s+at .*\.ts:\d+/);
  return line;
}

let files = 0;
const environmentProblem = (overrides: Overrides, field: string) => {
  const file = join(dir, `walk${files}.yaml`);
  writeFileSync(file, stringify(merge(exampleData(), { name: `walk${files++}`, ...overrides })));
  return problemNaming(() => loadEnvironmentFile(file), file, field);
};
const tenantProblem = (overrides: Overrides, field: string) => {
  const name = `t${files++}`;
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(merge({ name, cluster: "apps-prod", namespaces: [name], serviceAccounts: ["app"] }, overrides)));
  return problemNaming(() => loadTenantFile(file, exampleEnv()), file, field);
};

/** Every case, of every kind: the first test checks them against the sources all together. */
const WALKS: Walk[] = [...SCHEMA_REFUSED, ...TENANT_REFUSED, ...STACK_GUARDED];

interface SourceThrow {
  readonly file: string;
  readonly line: number;
  readonly text: string;
}

/** Every `throw new Error` line of the .ts files under constructs/ and stacks/, and of the construct settings computed in config/. */
function sourceThrows(): SourceThrow[] {
  const files = (folder: string): string[] =>
    readdirSync(join(ROOT, folder), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? files(`${folder}/${e.name}`) : e.name.endsWith(".ts") ? [`${folder}/${e.name}`] : [],
    );
  // (config/postgres-engine-settings.ts computes a construct's settings, and the verifier's declarations, from a tenant file.)
  return [...["constructs", "stacks"].flatMap(files), "config/postgres-engine-settings.ts"].flatMap((file) =>
    readFileSync(join(ROOT, file), "utf8")
      .split("\n")
      .flatMap((text, i) => (text.includes("throw new Error") ? [{ file, line: i + 1, text: text.trim() }] : [])),
  );
}

describe("construct validations", () => {
  it("has one walk for every throw in constructs/ and stacks/, and none for a throw that is gone", () => {
    const throws = sourceThrows();
    expect(throws.length).toBeGreaterThanOrEqual(WALKS.length);
    const unwalked = throws
      .filter((t) => WALKS.filter((w) => w.file === t.file && t.text.includes(w.throws)).length !== 1)
      .map((t) => `${t.file}:${t.line}: ${t.text}`);
    expect(unwalked).toEqual([]);
    const stale = WALKS.filter((w) => throws.filter((t) => w.file === t.file && t.text.includes(w.throws)).length !== 1).map((w) => `${w.file}: ${w.throws}`);
    expect(stale).toEqual([]);
  });

  it.each(WALKS.map((w) => [`${w.file} "${w.throws}"`, w.unreachable.by, w] as const))("%s: no valid environment reaches it (%s)", (_, __, walk) => {
    expect(walk.trip).toThrow(walk.message);
    const u = walk.unreachable;
    if (u.by === "stacks") {
      expect(u.why).not.toBe("");
      u.show();
    } else {
      const line = u.by === "environment schema" ? environmentProblem(u.overrides, u.field) : tenantProblem(u.overrides, u.field);
      expect(line).toContain(`: ${u.field}: ${u.says}`);
    }
  });

  it("reports a construct's refusal at synth as a config error against the environment file, with no stack trace", () => {
    const env = exampleEnv();
    // What the schema refuses, handed to the stacks directly: the safety net main.ts relies on.
    const unchecked = { ...env, vault: { ...env.vault, replicas: 0 } };
    const environmentsDir = join(dir, "environments");
    let problems: readonly string[] = [];
    try {
      buildProjectStacks(Testing.app({ outdir: join(tmpdir(), "vault-gke-unused"), stackTraces: false }), [{ env: unchecked, tenants: [] }], environmentsDir);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems = error.problems;
    }
    expect(problems).toEqual([
      `${join(environmentsDir, "example.yaml")}: podNames is empty; list the StatefulSet's pods (vault-0, vault-1, ...) (the schema should have refused this: please report it)`,
    ]);
  });
});
