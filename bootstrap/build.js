// Bundles the sidecar into one file (dist/main.js) with its dependencies: the
// container image ships that file alone, and the tests run the same bundle.
const { buildSync } = require("esbuild");

function build() {
  buildSync({
    entryPoints: [`${__dirname}/src/main.ts`],
    outfile: `${__dirname}/dist/main.js`,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    sourcemap: "linked",
    logLevel: "warning",
  });
}

module.exports = { build };
if (require.main === module) build();
