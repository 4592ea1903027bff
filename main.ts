// Entry point: load every environments/*.yaml and tenants/<env>/*.yaml, build
// each environment's stacks, synthesize.
import { App } from "cdktf";
import { join, resolve } from "node:path";
import { ConfigError } from "./config/load";
import { loadProject } from "./config/load-project";
import { writeDeliveryManifest } from "./stacks/delivery-manifest";
import { buildEnvironmentStacks } from "./stacks/environment-stacks";

const environmentsDir = resolve(process.env.VAULT_GKE_ENVIRONMENTS ?? resolve(__dirname, "..", "environments"));
const tenantsDir = resolve(process.env.VAULT_GKE_TENANTS ?? resolve(__dirname, "..", "tenants"));

try {
  const project = loadProject(environmentsDir, tenantsDir);
  // Stack traces on every construct cost synth time and only help debugging cdktf itself.
  const app = new App({ stackTraces: false });
  const problems: string[] = [];
  for (const { env, tenants } of project) {
    try {
      buildEnvironmentStacks(app, env, tenants);
    } catch (error) {
      // A construct refused a combination the schema let through: a user's mistake all the same, reported
      // like a config error (file, the construct's message with the value and the fix), before anything is written.
      if (!(error instanceof Error) || error instanceof ConfigError) throw error;
      problems.push(`${join(environmentsDir, `${env.name}.yaml`)}: ${error.message} (the schema should have refused this: please report it)`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  app.synth();
  writeDeliveryManifest(app.outdir, project);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  for (const line of error.problems) console.error(line);
  console.error(`${error.problems.length} problem(s) in the environment or tenant files; nothing was synthesized`);
  process.exit(2);
}
