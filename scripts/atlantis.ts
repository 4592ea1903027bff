// `npm run atlantis`: rewrites atlantis.yaml from the environment files.
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ConfigError, loadEnvironments } from "../config/load";
import { renderAtlantisConfig } from "./atlantis-config";

const root = resolve(__dirname, "..");
try {
  writeFileSync(join(root, "atlantis.yaml"), renderAtlantisConfig(loadEnvironments(join(root, "environments"))));
  console.log("wrote atlantis.yaml");
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  for (const line of error.problems) console.error(line);
  process.exit(2);
}
