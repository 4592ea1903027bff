// `npm run schemas`: writes the JSON Schemas of the environment and tenant
// files (schemas/*.schema.json) from the zod schemas, so editors complete and
// check these files while they are typed (each example file names its schema
// in a yaml-language-server comment). A test keeps them in sync. The rules
// JSON Schema cannot say (the cross-field and cross-file checks, TTL ceilings,
// certificate parsing) still run at synth time.
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { z } from "zod";
import { environmentSchema } from "../config/schema";
import { tenantSchema } from "../config/tenant-schema";

export const SCHEMA_FILES = {
  environment: "schemas/environment.schema.json",
  tenant: "schemas/tenant.schema.json",
} as const;

/** The schema of what a person writes (zod's input side: durations as text, defaults optional). */
export function renderJsonSchema(kind: keyof typeof SCHEMA_FILES): string {
  const schema = kind === "environment" ? environmentSchema : tenantSchema;
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  const titled = {
    ...json,
    $id: `https://vault-gke.invalid/${SCHEMA_FILES[kind]}`,
    title: kind === "environment" ? "vault-gke environment file (environments/<name>.yaml)" : "vault-gke tenant file (tenants/<environment>/<tenant>.yaml)",
    description: `Generated from config/${kind === "environment" ? "schema/" : "tenant-schema.ts"} by npm run schemas; do not edit by hand. Rules that span fields or files are checked at synth time.`,
  };
  return `${JSON.stringify(titled, null, 2)}\n`;
}

if (require.main === module) {
  const root = resolve(__dirname, "..");
  for (const kind of Object.keys(SCHEMA_FILES) as (keyof typeof SCHEMA_FILES)[]) {
    writeFileSync(join(root, SCHEMA_FILES[kind]), renderJsonSchema(kind));
    console.log(`wrote ${SCHEMA_FILES[kind]}`);
  }
}
