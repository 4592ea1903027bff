// `npm run bench`: prints figures and writes BENCHMARKS.md. Benchmarks live
// here, never as timed assertions in tests. Pass section names to run a subset:
// `npm run bench -- synth`.
import { spawnSync } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { benchmarks } from "./bench/sections";
const ROOT = resolve(__dirname, "..");
const FILE = join(ROOT, "BENCHMARKS.md");

function machine(): string {
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  const git = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).stdout.trim();
  return `${cpus().length} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}; commit ${git || "unknown"}; ${new Date().toISOString().slice(0, 10)}`;
}

/** Keeps the other sections of BENCHMARKS.md and replaces the ones that ran. */
function writeSection(name: string, body: string): void {
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  let text = existsSync(FILE) ? readFileSync(FILE, "utf8") : "# Benchmarks\n\nWritten by `npm run bench`; each section says the machine it ran on.\n";
  const block = `${start}\n${body.trim()}\n${end}`;
  const re = new RegExp(`${start}[\\s\\S]*?${end}`);
  text = re.test(text) ? text.replace(re, block) : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(FILE, text);
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !benchmarks.some((b) => b.name === w));
  if (unknown.length > 0) {
    console.error(`unknown benchmark section(s): ${unknown.join(", ")}; choose from ${benchmarks.map((b) => b.name).join(", ")}`);
    process.exit(2);
  }
  for (const bench of benchmarks.filter((b) => wanted.length === 0 || wanted.includes(b.name))) {
    console.log(`== ${bench.name}`);
    const body = await bench.run(ROOT);
    console.log(body);
    writeSection(bench.name, `${body.trim()}\n\nMachine: ${machine()}.`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
