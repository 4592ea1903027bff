// Entry point: load every environments/*.yaml, build each environment's stacks, synthesize.
import { App } from "cdktf";
import { resolve } from "node:path";
import { ConfigError, loadEnvironments } from "./config/load";
import { buildEnvironmentStacks } from "./stacks/environment-stacks";

const environmentsDir = resolve(process.env.VAULT_GKE_ENVIRONMENTS ?? resolve(__dirname, "..", "environments"));

try {
  const envs = loadEnvironments(environmentsDir);
  // Stack traces on every construct cost synth time and only help debugging cdktf itself.
  const app = new App({ stackTraces: false });
  for (const env of envs) buildEnvironmentStacks(app, env);
  app.synth();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  for (const line of error.problems) console.error(line);
  console.error(`${error.problems.length} problem(s) in the environment files; nothing was synthesized`);
  process.exit(2);
}
