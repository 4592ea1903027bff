// Entry point: load every environments/*.yaml and tenants/<env>/*.yaml, build
// each environment's stacks, synthesize.
import { App } from "cdktf";
import { resolve } from "node:path";
import { ConfigError } from "./config/load";
import { loadProject } from "./config/load-project";
import { writeDeliveryManifest } from "./stacks/delivery-manifest";
import { buildProjectStacks } from "./stacks/environment-stacks";
import { writePrometheusRules } from "./stacks/prometheus-rules";

const environmentsDir = resolve(process.env.VAULT_GKE_ENVIRONMENTS ?? resolve(__dirname, "..", "environments"));
const tenantsDir = resolve(process.env.VAULT_GKE_TENANTS ?? resolve(__dirname, "..", "tenants"));

try {
  const project = loadProject(environmentsDir, tenantsDir);
  // Stack traces on every construct cost synth time and only help debugging cdktf itself.
  const app = new App({ stackTraces: false });
  // A construct's refusal becomes a config error against its environment file, before anything is written.
  buildProjectStacks(app, project, environmentsDir);
  app.synth();
  writeDeliveryManifest(app.outdir, project);
  writePrometheusRules(app.outdir, project);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  for (const line of error.problems) console.error(line);
  console.error(`${error.problems.length} problem(s) in the environment or tenant files; nothing was synthesized`);
  process.exit(2);
}
