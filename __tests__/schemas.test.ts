// The JSON Schemas editors use for environment and tenant files: generated
// from the zod schemas and in sync; every example file names its schema and
// passes it under a real JSON Schema validator (ajv, draft 2020-12); a broken
// example fails it.
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parse } from "yaml";
import { renderJsonSchema, SCHEMA_FILES } from "../scripts/schemas";
import { ROOT } from "./helpers";

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv); // so "email" and "uri" are checked as editors check them, not ignored
const validators = {
  environment: ajv.compile(JSON.parse(readFileSync(join(ROOT, SCHEMA_FILES.environment), "utf8"))),
  tenant: ajv.compile(JSON.parse(readFileSync(join(ROOT, SCHEMA_FILES.tenant), "utf8"))),
};

const yamlFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? yamlFiles(join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : [],
  );
const examples = [
  ...yamlFiles(join(ROOT, "environments")).map((f) => ["environment", f] as const),
  ...yamlFiles(join(ROOT, "tenants")).map((f) => ["tenant", f] as const),
];

describe("JSON Schemas of the environment and tenant files", () => {
  it.each(Object.keys(SCHEMA_FILES) as (keyof typeof SCHEMA_FILES)[])("%s: the committed file is what `npm run schemas` generates", (kind) => {
    expect(readFileSync(join(ROOT, SCHEMA_FILES[kind]), "utf8")).toBe(renderJsonSchema(kind));
  });

  it.each(examples.map(([kind, file]) => [file.slice(ROOT.length + 1), kind, file] as const))("%s names its schema and passes it", (_, kind, file) => {
    const text = readFileSync(file, "utf8");
    const ref = /^# yaml-language-server: \$schema=(\S+)$/m.exec(text)?.[1];
    expect(ref).toBeDefined();
    expect(resolve(dirname(file), String(ref))).toBe(join(ROOT, SCHEMA_FILES[kind]));
    const validate = validators[kind];
    expect([validate(parse(text)), validate.errors ?? []]).toEqual([true, []]);
  });

  it("fails a broken example: an unknown field, a wrong choice, a missing field, a malformed duration", () => {
    const tenant = parse(readFileSync(join(ROOT, "tenants", "example", "payments.yaml"), "utf8")) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const broken = [
      { ...tenant, clusterr: "apps-prod" },
      { ...tenant, engines: { ...tenant.engines, postgres: { ...tenant.engines.postgres, access: "admin" } } },
      (({ cluster, ...rest }) => rest)(tenant),
      { ...tenant, tokenTtl: "30 minutes" },
      { ...tenant, cluster: { name: "apps-prod", apiServerUrl: "https://203.0.113.9" } },
    ];
    for (const doc of broken) expect(validators.tenant(doc)).toBe(false);
    const env = parse(readFileSync(join(ROOT, "environments", "example.yaml"), "utf8")) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(validators.environment({ ...env, vault: { ...env.vault, seal: "kms" } })).toBe(false);
    expect(validators.environment({ ...env, bootstrap: { ...env.bootstrap, provisionerTokenPeriod: "1h" } })).toBe(false);
    expect(validators.environment({ ...env, delivery: { ...env.delivery, applyServiceAccounts: ["atlantis-apply"] } })).toBe(false);
  });

  it("carries the field descriptions editors show on hover", () => {
    const schema = JSON.parse(readFileSync(join(ROOT, SCHEMA_FILES.tenant), "utf8"));
    expect(schema.properties.cluster.description).toContain("registered in the environment file");
    expect(schema.properties.audience.description).toContain("projected service account tokens");
    expect(existsSync(join(ROOT, SCHEMA_FILES.environment))).toBe(true);
  });
});
