// The operator's guide (docs/operator-guide.md): its Mermaid diagram renders
// with @mermaid-js/mermaid-cli in a real headless Chromium (Debian's package,
// installed by `npm run tools`; Puppeteer never downloads one, .puppeteerrc.cjs),
// it has the sections operators look for, and every repository file it names
// exists.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./helpers";

jest.setTimeout(120_000);

const GUIDE = join(ROOT, "docs", "operator-guide.md");
const MMDC = join(ROOT, "node_modules", ".bin", "mmdc");
const BROWSER = process.env.PUPPETEER_EXECUTABLE_PATH || "/usr/bin/chromium";
const HEADLESS_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

const guide = readFileSync(GUIDE, "utf8");
const diagrams = [...guide.matchAll(/^```mermaid\n([\s\S]*?)^```$/gm)].map((m) => m[1]);

function run(command: string, args: string[], cwd: string): Promise<{ status: number | null; output: string }> {
  const child = spawn(command, args, { cwd, env: { ...process.env, PUPPETEER_EXECUTABLE_PATH: BROWSER }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, output }));
  });
}

describe("docs/operator-guide.md", () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "vault-gke-guide-"))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("has its Mermaid architecture diagram render in headless Chromium", async () => {
    if (!existsSync(BROWSER))
      throw new Error(`${BROWSER} is missing: run \`npm run tools\` (installs Debian's chromium as root) or set PUPPETEER_EXECUTABLE_PATH`);
    expect(diagrams).toHaveLength(1);
    writeFileSync(join(dir, "puppeteer.json"), JSON.stringify({ executablePath: BROWSER, args: HEADLESS_FLAGS }));
    writeFileSync(join(dir, "architecture.mmd"), diagrams[0]);
    const res = await run(MMDC, ["--input", "architecture.mmd", "--output", "architecture.svg", "--puppeteerConfigFile", "puppeteer.json", "--quiet"], dir);
    expect({ status: res.status, output: res.output }).toEqual({ status: 0, output: "" });
    const svg = readFileSync(join(dir, "architecture.svg"), "utf8");
    expect(svg).toMatch(/^<svg[^>]+aria-roledescription="flowchart-v2"/);
    expect(svg).not.toMatch(/Syntax error/i);
    for (const label of [
      "pre-workflow hook",
      "bootstrap sidecar",
      "Secret Manager",
      "Cloud KMS",
      "tenant pods",
      "plan token (read-only)",
      "shared stack: auth methods, clusters",
    ])
      expect(svg).toContain(label);
  });

  it("fails to render a broken diagram (the renderer really checks)", async () => {
    writeFileSync(join(dir, "broken.mmd"), "flowchart TB\n  a --> \n  subgraph\n");
    const res = await run(MMDC, ["--input", "broken.mmd", "--output", "broken.svg", "--puppeteerConfigFile", "puppeteer.json", "--quiet"], dir);
    expect(res.status).not.toBe(0);
  });

  it("covers what operators need, the sidecar's log lines and diagnoses included", () => {
    const headings = [...guide.matchAll(/^#{2,3} (.+)$/gm)].map((m) => m[1]);
    expect(headings).toEqual(
      expect.arrayContaining([
        "Architecture",
        "Delivery: who plans and applies, with which credential",
        "Why it is built this way",
        "First deployment, step by step",
        "Onboarding a tenant",
        "Rotating credentials",
        "Upgrading Vault, pod by pod",
        "Recovering a lost pod",
        "What the runners and admins need",
        "What each sidecar log line means",
      ]),
    );
    expect(guide).toContain("vault login -method=gcp role=admin");
    expect(guide).toContain("npx cdktf deploy prod-shared");
    expect(guide).toMatch(/roles\/storage\.objectViewer/);
    // Every diagnosis the sidecar can report is explained.
    const codes = [...readFileSync(join(ROOT, "agent", "src", "sidecar", "diagnoses.ts"), "utf8").matchAll(/code: "([a-z-]+)"/g)].map((m) => m[1]);
    expect(codes.length).toBeGreaterThan(8);
    for (const code of codes) expect(guide).toContain(`| \`${code}\` |`);
  });

  it("names only repository files that exist", () => {
    const paths = [...guide.matchAll(/`((?:deploy|docs|\.github|scripts|agent|commands|contract|constructs|environments|tenants)\/[\w./-]+\.[a-z]+)`/g)].map(
      (m) => m[1],
    );
    expect(paths.length).toBeGreaterThan(5);
    for (const p of new Set(paths)) expect({ path: p, exists: existsSync(join(ROOT, p)) }).toEqual({ path: p, exists: true });
  });
});
