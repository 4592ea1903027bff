// Bundles each command into one file with its dependencies: dist/main.js (the
// sidecar), dist/snapshot.js (the snapshot CronJob) and dist/restore.js (the
// operators' restore). The container image ships those files alone, and the
// tests run the same bundles.
const { buildSync } = require("esbuild");

const ENTRY_POINTS = {
  main: "sidecar/main.ts",
  snapshot: "snapshot/main.ts",
  restore: "restore/main.ts",
};

function build() {
  buildSync({
    entryPoints: Object.fromEntries(Object.entries(ENTRY_POINTS).map(([out, src]) => [out, `${__dirname}/src/${src}`])),
    outdir: `${__dirname}/dist`,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    sourcemap: "linked",
    logLevel: "warning",
  });
}

module.exports = { build, ENTRY_POINTS };
if (require.main === module) build();
