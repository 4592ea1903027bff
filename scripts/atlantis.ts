// `npm run atlantis`: synthesizes into a temporary folder, reads esbuild's
// import graph of main.ts, and rewrites atlantis.yaml (a test keeps it in sync).
import { rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { collectAtlantisInputs, renderAtlantisConfig } from "./atlantis-config";

async function main(): Promise<void> {
  const root = resolve(__dirname, "..");
  const { inputs, outdir } = await collectAtlantisInputs(root);
  try {
    writeFileSync(join(root, "atlantis.yaml"), renderAtlantisConfig(inputs));
    console.log(`wrote atlantis.yaml: ${inputs.stacks.length} projects`);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  // The synth already printed its own problems (one line each) on stderr.
  console.error(error instanceof Error ? error.message.split("\n")[0] : String(error));
  process.exit(1);
});
