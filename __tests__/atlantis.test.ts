// atlantis.yaml is generated; this keeps the committed file in sync, parses it
// with a real YAML parser, validates it against the subset of Atlantis's repo
// config schema it uses, and checks which projects a change plans.
import { readFileSync } from "node:fs";
import { join, matchesGlob } from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { loadEnvironments } from "../config/load";
import { renderAtlantisConfig } from "../scripts/atlantis-config";
import { ROOT } from "./helpers";

const step = z.union([
  z.strictObject({ run: z.string().min(1) }),
  z.strictObject({ env: z.strictObject({ name: z.string().regex(/^[A-Z_]+$/), command: z.string().min(1) }) }),
  z.enum(["init", "plan", "apply"]),
]);
const stage = z.strictObject({ steps: z.array(step).min(1) });
const atlantisSchema = z.strictObject({
  version: z.literal(3),
  automerge: z.boolean(),
  parallel_plan: z.boolean(),
  parallel_apply: z.boolean(),
  projects: z.array(
    z.strictObject({
      name: z.string().regex(/^[a-z0-9-]+$/),
      dir: z.string(),
      workflow: z.string(),
      autoplan: z.strictObject({ enabled: z.boolean(), when_modified: z.array(z.string()).min(1) }),
      apply_requirements: z.array(z.enum(["approved", "mergeable", "undiverged"])),
      depends_on: z.array(z.string()).optional(),
    }),
  ),
  workflows: z.record(z.string(), z.strictObject({ plan: stage, apply: stage })),
});

const text = readFileSync(join(ROOT, "atlantis.yaml"), "utf8");
const config = atlantisSchema.parse(parse(text));
const planned = (file: string) => config.projects.filter((p) => p.autoplan.when_modified.some((g) => matchesGlob(file, g))).map((p) => p.name);

describe("atlantis.yaml", () => {
  it("is what `npm run atlantis` generates from the environments", () => {
    expect(text).toBe(renderAtlantisConfig(loadEnvironments(join(ROOT, "environments"))));
  });

  it("plans each environment's stacks in order and requires approval to apply", () => {
    expect(config.projects.map((p) => [p.name, p.depends_on ?? []])).toEqual([
      ["example-platform", []],
      ["example-vault", ["example-platform"]],
      ["example-tenants", ["example-vault"]],
    ]);
    for (const p of config.projects) {
      expect(p.apply_requirements).toEqual(["approved", "mergeable"]);
      expect(config.workflows[p.workflow]).toBeDefined();
    }
  });

  it("plans only the tenants stack when a tenant file changes", () => {
    expect(planned("tenants/example/newteam.yaml")).toEqual(["example-tenants"]);
    expect(planned("environments/example.yaml")).toEqual(["example-platform", "example-vault", "example-tenants"]);
    expect(planned("policies/provisioner.hcl")).toEqual(["example-vault"]);
    expect(planned("README.md")).toEqual([]);
  });

  it("gives the tenants workflow the provisioner token from Secret Manager, in its environment only", () => {
    const tenants = config.workflows["cdktf-tenants-example"];
    const envSteps = tenants.plan.steps.flatMap((s) => (typeof s === "object" && "env" in s ? [s.env] : []));
    expect(envSteps.find((e) => e.name === "VAULT_TOKEN")?.command).toContain("--secret=example-vault-provisioner-token");
    expect(text).not.toMatch(/\b(hvs|s)\.[A-Za-z0-9]{20,}/);
    const plainSteps = config.workflows.cdktf.plan.steps.flatMap((s) => (typeof s === "object" && "env" in s ? [s] : []));
    expect(plainSteps).toEqual([]);
  });
});
