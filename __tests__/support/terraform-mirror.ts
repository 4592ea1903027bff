// Terraform with the providers `npm run tools` built from ../shared/vendor
// into .tools/tf-mirror: a CLI configuration file that installs them from that
// filesystem mirror and never from the registry (an air-gapped installation).
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "./bao";

export const TF_MIRROR = join(projectRoot(), ".tools", "tf-mirror");

/** Writes the CLI configuration file (for TF_CLI_CONFIG_FILE); a plugin cache folder when given. */
export function writeMirrorCliConfig(file: string, pluginCacheDir?: string): string {
  if (!existsSync(join(TF_MIRROR, "registry.terraform.io", "hashicorp"))) throw new Error(`${TF_MIRROR} is missing: run \`npm run tools\` first`);
  const cache = pluginCacheDir ? `plugin_cache_dir = "${pluginCacheDir}"\n` : "";
  writeFileSync(
    file,
    `${cache}provider_installation {\n  filesystem_mirror {\n    path = "${TF_MIRROR}"\n    include = ["registry.terraform.io/hashicorp/*"]\n  }\n  direct {\n    exclude = ["registry.terraform.io/hashicorp/*"]\n  }\n}\n`,
  );
  return file;
}
