// The Atlantis pre-workflow hook (deploy/atlantis/bin/pre-workflow-hook.sh)
// against a GitHub API stand-in on loopback, in a throwaway git clone whose
// package.json has lifecycle scripts that must never run and a synth that
// records what it was given. It must synthesize only when the pull request's
// head commit is approved by a trusted reviewer, and refuse (non-zero, one
// line) for an approval of an older commit, changes requested, an untrusted
// approver, or an API error.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./helpers";
import { GitHubApiStandIn, type Review } from "./support/github-api-stand-in";

jest.setTimeout(60_000);

const HOOK = join(ROOT, "deploy", "atlantis", "bin", "pre-workflow-hook.sh");
const GH_TOKEN = "ghs_StandInTokenForTestsOnly";
const PULL = 7;
const OLD = "1111111111111111111111111111111111111111";

const SYNTH = `const fs = require("fs"); const path = require("path");
const out = process.env.CDKTF_OUTDIR;
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, "manifest.json"), JSON.stringify({ stacks: { "example-platform": {} } }));
fs.writeFileSync(path.join(out, "vault-gke-delivery.json"), "{}");
fs.writeFileSync("synth-env.json", JSON.stringify(Object.keys(process.env)));
fs.appendFileSync("synth-count", "x");
`;
const mark = (file: string) => `node -e "require('fs').writeFileSync('${file}', '')"`;

const github = new GitHubApiStandIn("acme", "vault-gke", PULL, GH_TOKEN);
const clones: string[] = [];

/** A fresh clone: package.json with lifecycle scripts, an empty lockfile, a recording synth; one commit. */
function makeClone(): { dir: string; head: string } {
  const dir = mkdtempSync(join(tmpdir(), "vault-gke-hook-"));
  clones.push(dir);
  const pkg = {
    name: "hook-fixture",
    version: "1.0.0",
    private: true,
    scripts: { synth: "node synth.js", presynth: mark("presynth-ran"), postinstall: mark("postinstall-ran"), prepare: mark("prepare-ran") },
  };
  writeFileSync(join(dir, "package.json"), JSON.stringify(pkg, null, 2));
  writeFileSync(join(dir, "package-lock.json"), JSON.stringify({ name: "hook-fixture", version: "1.0.0", lockfileVersion: 3, requires: true, packages: { "": { name: "hook-fixture", version: "1.0.0" } } }, null, 2));
  writeFileSync(join(dir, "synth.js"), SYNTH);
  const git = (...args: string[]) => execFileSync("git", args, { cwd: dir, encoding: "utf8" }).trim();
  git("init", "-q");
  git("-c", "user.email=t@example.com", "-c", "user.name=t", "add", ".");
  git("-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "-m", "fixture");
  return { dir, head: git("rev-parse", "HEAD") };
}

/** Runs the hook as Atlantis does; asynchronously, so the in-process GitHub stand-in can answer. */
function runHook(dir: string, head: string, extra: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn("bash", [HOOK], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: dir,
      npm_config_cache: join(dir, ".npm-cache"),
      npm_config_update_notifier: "false",
      DIR: dir,
      PULL_NUM: String(PULL),
      HEAD_COMMIT: head,
      BASE_REPO_OWNER: "acme",
      BASE_REPO_NAME: "vault-gke",
      OUTPUT_STATUS_FILE: join(dir, "OUTPUT_STATUS_FILE"),
      VAULT_GKE_GITHUB_TOKEN: GH_TOKEN,
      VAULT_GKE_GITHUB_API_URL: github.url,
      // The server's secrets, which the pull request's code must never see.
      ATLANTIS_GH_TOKEN: "server-secret-gh",
      GOOGLE_APPLICATION_CREDENTIALS: "/server/secret/credentials.json",
      ...extra,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

const review = (login: string, state: Review["state"], commit: string, association = "COLLABORATOR"): Review => ({ user: { login }, state, commit_id: commit, author_association: association });
const synthesized = (dir: string) => existsSync(join(dir, "ci-cdktf.out", "manifest.json"));

beforeAll(() => github.start());
afterAll(async () => {
  await github.stop();
  for (const dir of clones) rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  github.failWith = undefined;
  github.reviews = [];
});

describe("pre-workflow hook", () => {
  it("synthesizes once when the head commit is approved, without lifecycle scripts or server secrets", async () => {
    const { dir, head } = makeClone();
    github.reviews = [review("bob", "COMMENTED", OLD), review("alice", "APPROVED", head)];
    const res = await runHook(dir, head);
    expect(res).toEqual({ status: 0, stdout: `approved at ${head.slice(0, 12)} by @alice; synthesized 1 stacks into ci-cdktf.out\n`, stderr: "" });
    expect(synthesized(dir)).toBe(true);
    expect(readFileSync(join(dir, "OUTPUT_STATUS_FILE"), "utf8")).toContain("approved at");
    for (const f of ["postinstall-ran", "prepare-ran", "presynth-ran"]) expect(existsSync(join(dir, f))).toBe(false);
    const env = JSON.parse(readFileSync(join(dir, "synth-env.json"), "utf8")) as string[];
    for (const secret of ["VAULT_GKE_GITHUB_TOKEN", "ATLANTIS_GH_TOKEN", "GOOGLE_APPLICATION_CREDENTIALS"]) expect(env).not.toContain(secret);
    expect(env).toContain("CDKTF_OUTDIR");
    expect(github.requests[github.requests.length - 1]).toEqual({ url: `/repos/acme/vault-gke/pulls/${PULL}/reviews?per_page=100&page=1`, authorization: `Bearer ${GH_TOKEN}` });

    // The apply after the plan: checked again, not synthesized again.
    const again = await runHook(dir, head);
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/already synthesized/);
    expect(readFileSync(join(dir, "synth-count"), "utf8")).toBe("x");
  });

  it("refuses an approval of an older commit", async () => {
    const { dir, head } = makeClone();
    github.reviews = [review("alice", "APPROVED", OLD)];
    expect(await runHook(dir, head)).toEqual({ status: 1, stdout: "", stderr: expect.stringMatching(new RegExp(`^vault-gke: waiting for an approval of ${head} [^\n]*\n$`)) });
    expect(synthesized(dir)).toBe(false);
    expect(existsSync(join(dir, "node_modules"))).toBe(false);
  });

  it("refuses when the approver later requested changes", async () => {
    const { dir, head } = makeClone();
    github.reviews = [review("alice", "APPROVED", head), review("alice", "CHANGES_REQUESTED", head)];
    expect((await runHook(dir, head)).stderr).toBe(`vault-gke: changes requested by @alice: waiting for an approval of ${head}\n`);
    expect(synthesized(dir)).toBe(false);
  });

  it("refuses while another trusted reviewer's latest review requests changes", async () => {
    const { dir, head } = makeClone();
    github.reviews = [review("carol", "CHANGES_REQUESTED", OLD, "MEMBER"), review("alice", "APPROVED", head)];
    expect((await runHook(dir, head)).status).toBe(1);
    github.reviews.push(review("carol", "APPROVED", head, "MEMBER"));
    expect((await runHook(dir, head)).status).toBe(0);
  });

  it("ignores approvals by users without write access", async () => {
    const { dir, head } = makeClone();
    github.reviews = [review("mallory", "APPROVED", head, "NONE"), review("eve", "APPROVED", head, "CONTRIBUTOR")];
    expect((await runHook(dir, head)).stderr).toMatch(/^vault-gke: waiting for an approval of/);
  });

  it("reads every page of reviews", async () => {
    const { dir, head } = makeClone();
    github.reviews = [...Array.from({ length: 100 }, (_, i) => review(`c${i}`, "COMMENTED", OLD)), review("alice", "APPROVED", head, "OWNER")];
    expect((await runHook(dir, head)).status).toBe(0);
    expect(github.requests.slice(-2).map((r) => r.url)).toEqual([`/repos/acme/vault-gke/pulls/${PULL}/reviews?per_page=100&page=1`, `/repos/acme/vault-gke/pulls/${PULL}/reviews?per_page=100&page=2`]);
  });

  it("refuses when the GitHub API fails or refuses the token", async () => {
    const { dir, head } = makeClone();
    github.reviews = [review("alice", "APPROVED", head)];
    github.failWith = 502;
    expect((await runHook(dir, head)).stderr).toMatch(/^vault-gke: GitHub answered HTTP 502 .*not running anything/);
    github.failWith = undefined;
    expect((await runHook(dir, head, { VAULT_GKE_GITHUB_TOKEN: "wrong" })).stderr).toMatch(/HTTP 401/);
    expect((await runHook(dir, head, { VAULT_GKE_GITHUB_API_URL: "http://127.0.0.1:9" })).stderr).toMatch(/^vault-gke: cannot read the reviews/);
    expect((await runHook(dir, head, { VAULT_GKE_GITHUB_TOKEN: "" })).stderr).toMatch(/VAULT_GKE_GITHUB_TOKEN is not set/);
    expect(synthesized(dir)).toBe(false);
  });

  it("reports a failing synth in one line, keeping its output on the server", async () => {
    const { dir, head } = makeClone();
    writeFileSync(join(dir, "synth.js"), 'console.error("some secret-looking output"); process.exit(2);');
    github.reviews = [review("alice", "APPROVED", head)];
    const res = await runHook(dir, head);
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/^vault-gke: the synth failed for [0-9a-f]{12}; [^\n]*\n$/);
    expect(res.stderr).not.toContain("secret-looking");
    expect(readFileSync(join(dir, ".vault-gke-hook.log"), "utf8")).toContain("secret-looking");
  });
});
