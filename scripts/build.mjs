// Transpile-only build of the cdktf app: esbuild strips types in ~100 ms, so
// `cdktf synth` and `npm run synth` never pay for type checking (that runs once,
// in `npm run typecheck`). Packages stay external: providers are loaded per file.
import { build } from "esbuild";

await build({
  entryPoints: ["main.ts"],
  outfile: "dist/main.js",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  packages: "external",
  sourcemap: "linked",
  logLevel: "warning",
});
