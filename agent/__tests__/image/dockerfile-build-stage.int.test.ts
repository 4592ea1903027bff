// The sidecar image's build stage, replayed without a Docker engine: a build
// context holding only what the stage's COPY instructions copy (the `npm ci`
// layer's result stands in as a link to this checkout's node_modules, which
// the same lock file installed), then the stage's build command in it. The
// bundle must build there, and every file esbuild reads for it must be one the
// stage copies. (test.yml runs a real `docker build` of both images.)
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { buildSync } from "esbuild";

const ROOT = resolve(__dirname, "..", "..", "..");
const { ENTRY_POINTS } = require("../../build.js") as { ENTRY_POINTS: Record<string, string> };

/** The build stage's instructions, continuation lines joined. */
function buildStage(): string[] {
  const text = require("node:fs").readFileSync(join(ROOT, "agent", "Dockerfile"), "utf8") as string;
  const lines = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const from = lines.findIndex((l) => /^FROM .* AS build$/.test(l));
  const next = lines.findIndex((l, i) => i > from && l.startsWith("FROM "));
  return lines.slice(from, next);
}

/** [source, destination] of each COPY in the build stage (sources relative to the build context, the repository root). */
function copies(): [string, string][] {
  return buildStage()
    .filter((l) => l.startsWith("COPY ") && !l.includes("--from="))
    .flatMap((l) => {
      const args = l.slice(5).trim().split(/\s+/);
      const dest = args.pop() as string;
      return args.map((src): [string, string] => [
        src,
        dest.endsWith("/") || args.length > 1 ? join(dest, src.endsWith("/") ? "" : (src.split("/").pop() as string)) : dest,
      ]);
    });
}

/** Files (repository-relative) that esbuild reads to bundle the commands, outside node_modules. */
function filesTheBundleReads(): string[] {
  const result = buildSync({
    entryPoints: Object.values(ENTRY_POINTS).map((src) => join(ROOT, "agent", "src", src)),
    bundle: true,
    platform: "node",
    target: "node20",
    write: false,
    metafile: true,
    outdir: join(tmpdir(), "unused"),
    logLevel: "silent",
    absWorkingDir: ROOT,
  });
  return Object.keys(result.metafile.inputs).filter((f) => !f.includes("node_modules/"));
}

const copied = (file: string) => copies().some(([src]) => (src.endsWith("/") ? file.startsWith(src) : file === src));

describe("the sidecar image's build stage", () => {
  it("copies every file the bundle reads", () => {
    const missing = filesTheBundleReads().filter((f) => !copied(f));
    expect(missing).toEqual([]);
  });

  it("builds the bundles from only what it copies", () => {
    const context = mkdtempSync(join(tmpdir(), "vault-gke-image-build-"));
    try {
      for (const [src, dest] of copies()) {
        const from = join(ROOT, src);
        expect(existsSync(from)).toBe(true);
        cpSync(from, join(context, dest), {
          recursive: true,
          filter: (f) => !relative(ROOT, f).split("/").includes("node_modules") && !relative(ROOT, f).split("/").includes("dist"),
        });
      }
      // The `RUN npm ci` layer: the same lock file installed these packages.
      symlinkSync(join(ROOT, "node_modules"), join(context, "node_modules"));
      const run = buildStage().filter((l) => l.startsWith("RUN ") && !l.includes("npm ci"));
      expect(run).toEqual(["RUN node agent/build.js"]);
      execFileSync("node", ["agent/build.js"], { cwd: context, stdio: "pipe" });
      for (const name of Object.keys(ENTRY_POINTS)) expect(statSync(join(context, "agent", "dist", `${name}.js`)).size).toBeGreaterThan(10_000);
    } finally {
      rmSync(context, { recursive: true, force: true });
    }
  });
});
