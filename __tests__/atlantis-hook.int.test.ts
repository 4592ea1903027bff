// The Atlantis pre-workflow hook (deploy/atlantis/bin/pre-workflow-hook.sh)
// against a GitHub API stand-in on loopback, in a throwaway git clone whose
// package.json has lifecycle scripts that must never run and a synth that
// records what it was given. It must synthesize only when the pull request's
// head commit is approved by a reviewer with write access (asked per reviewer),
// and refuse (non-zero, one line) for an approval of an older commit, changes
// requested, an approver without write access, or an API error. Packages are
// installed once per lock file outside the clone.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from "node:fs";
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
  writeFileSync(
    join(dir, "package-lock.json"),
    JSON.stringify(
      { name: "hook-fixture", version: "1.0.0", lockfileVersion: 3, requires: true, packages: { "": { name: "hook-fixture", version: "1.0.0" } } },
      null,
      2,
    ),
  );
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

/** A review; the reviewer gets `permission` on the repository (write unless said; null: no collaborator, GitHub answers 404). */
function review(
  login: string,
  state: Review["state"],
  commit: string,
  association = "COLLABORATOR",
  permission: "admin" | "write" | "read" | "none" | null = "write",
): Review {
  if (permission) github.permissions[login] = permission;
  else delete github.permissions[login];
  return { user: { login }, state, commit_id: commit, author_association: association };
}
const synthesized = (dir: string) => existsSync(join(dir, "ci-cdktf.out", "manifest.json"));

beforeAll(() => github.start());
afterAll(async () => {
  await github.stop();
  for (const dir of clones) rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  github.failWith = undefined;
  github.reviews = [];
  github.permissions = {};
  github.permissionFailWith = undefined;
});

describe("pre-workflow hook", () => {
  it("synthesizes once when the head commit is approved, without lifecycle scripts or server secrets", async () => {
    const { dir, head } = makeClone();
    github.reviews = [review("bob", "COMMENTED", OLD), review("alice", "APPROVED", head)];
    const res = await runHook(dir, head);
    expect(res).toEqual({
      status: 0,
      stdout: `approved at ${head.slice(0, 12)} by @alice; synthesized 1 stacks of ${head.slice(0, 12)} into ci-cdktf.out\n`,
      stderr: "",
    });
    expect(synthesized(dir)).toBe(true);
    expect(readFileSync(join(dir, "OUTPUT_STATUS_FILE"), "utf8")).toContain("approved at");
    for (const f of ["postinstall-ran", "prepare-ran", "presynth-ran"]) expect(existsSync(join(dir, f))).toBe(false);
    const env = JSON.parse(readFileSync(join(dir, "synth-env.json"), "utf8")) as string[];
    for (const secret of ["VAULT_GKE_GITHUB_TOKEN", "ATLANTIS_GH_TOKEN", "GOOGLE_APPLICATION_CREDENTIALS"]) expect(env).not.toContain(secret);
    expect(env).toContain("CDKTF_OUTDIR");
    expect(github.requests.slice(-2)).toEqual([
      { url: `/repos/acme/vault-gke/pulls/${PULL}/reviews?per_page=100&page=1`, authorization: `Bearer ${GH_TOKEN}` },
      { url: "/repos/acme/vault-gke/collaborators/alice/permission", authorization: `Bearer ${GH_TOKEN}` },
    ]);

    // The apply after the plan: checked again, not synthesized again.
    const again = await runHook(dir, head);
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/already synthesized/);
    expect(readFileSync(join(dir, "synth-count"), "utf8")).toBe("x");
  });

  it("refuses an approval of an older commit", async () => {
    const { dir, head } = makeClone();
    github.reviews = [review("alice", "APPROVED", OLD)];
    expect(await runHook(dir, head)).toEqual({
      status: 1,
      stdout: "",
      stderr: expect.stringMatching(new RegExp(`^vault-gke: waiting for an approval of ${head} [^\n]*\n$`)),
    });
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
    github.reviews = [review("mallory", "APPROVED", head, "NONE", null), review("eve", "APPROVED", head, "CONTRIBUTOR", "none")];
    expect((await runHook(dir, head)).stderr).toMatch(/^vault-gke: waiting for an approval of [0-9a-f]{40} by a reviewer with write access/);
  });

  // MEMBER is any member of the organization and COLLABORATOR any granted role: neither says write access.
  it("ignores the approval of a read-only organization member or collaborator, asking GitHub for each reviewer's permission", async () => {
    const { dir, head } = makeClone();
    github.reviews = [review("reader", "APPROVED", head, "MEMBER", "read"), review("triager", "APPROVED", head, "COLLABORATOR", "read")];
    expect((await runHook(dir, head)).status).toBe(1);
    expect(synthesized(dir)).toBe(false);
    expect(github.requests.map((r) => r.url)).toEqual(
      expect.arrayContaining(["/repos/acme/vault-gke/collaborators/reader/permission", "/repos/acme/vault-gke/collaborators/triager/permission"]),
    );
    github.permissions.reader = "admin";
    expect((await runHook(dir, head)).stdout).toMatch(/^approved at [0-9a-f]{12} by @reader; /);
  });

  it("ignores changes requested by a reviewer without write access, and refuses when a blocker's permission cannot be read", async () => {
    const { dir, head } = makeClone();
    github.reviews = [review("drive-by", "CHANGES_REQUESTED", head, "NONE", "read"), review("alice", "APPROVED", head)];
    expect((await runHook(dir, head)).status).toBe(0);
    const other = makeClone();
    github.reviews = [review("carol", "CHANGES_REQUESTED", OLD, "MEMBER"), review("alice", "APPROVED", other.head)];
    github.permissionFailWith = 502;
    const res = await runHook(other.dir, other.head);
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/^vault-gke: GitHub answered HTTP 502 for @carol's permission on acme\/vault-gke; not running anything/);
    expect(synthesized(other.dir)).toBe(false);
  });

  it("installs packages once per lock file outside the clone, so a clone holds a link and deleting it is instant", async () => {
    const first = makeClone();
    const second = makeClone();
    const cache = mkdtempSync(join(tmpdir(), "vault-gke-hook-cache-"));
    clones.push(cache);
    // Two approvers: the fixtures may differ in their commit time, and each reviewer's latest review counts.
    github.reviews = [review("alice", "APPROVED", first.head), review("carol", "APPROVED", second.head)];
    for (const c of [first, second]) expect((await runHook(c.dir, c.head, { VAULT_GKE_CACHE_DIR: cache })).status).toBe(0);
    for (const c of [first, second]) {
      expect(lstatSync(join(c.dir, "node_modules")).isSymbolicLink()).toBe(true);
      expect(realpathSync(join(c.dir, "node_modules")).startsWith(realpathSync(cache))).toBe(true);
    }
    // One install for the one lock file; removing a clone leaves it for the next.
    expect(readdirSync(join(cache, "node_modules")).filter((e) => !e.startsWith("."))).toHaveLength(1);
    rmSync(first.dir, { recursive: true, force: true });
    expect(existsSync(realpathSync(join(second.dir, "node_modules")))).toBe(true);
  });

  it("reads every page of reviews", async () => {
    const { dir, head } = makeClone();
    github.reviews = [...Array.from({ length: 100 }, (_, i) => review(`c${i}`, "COMMENTED", OLD)), review("alice", "APPROVED", head, "OWNER")];
    expect((await runHook(dir, head)).status).toBe(0);
    expect(github.requests.slice(-3).map((r) => r.url)).toEqual([
      `/repos/acme/vault-gke/pulls/${PULL}/reviews?per_page=100&page=1`,
      `/repos/acme/vault-gke/pulls/${PULL}/reviews?per_page=100&page=2`,
      "/repos/acme/vault-gke/collaborators/alice/permission",
    ]);
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

// Atlantis merges a moved main into the clone again right before it plans each project (after
// the hook ran), leaving the untracked ci-cdktf.out/ alone: the first step of every plan
// synthesizes again when the clone moved, and the first step of every apply refuses.
describe("synth.sh, the first step of every plan and apply", () => {
  const SYNTH_SH = join(ROOT, "deploy", "atlantis", "bin", "synth.sh");
  const step = (dir: string, mode: "ensure" | "check") =>
    spawnSync("bash", [SYNTH_SH, mode], {
      cwd: join(dir, "ci-cdktf.out"),
      env: { PATH: process.env.PATH ?? "", HOME: dir, npm_config_cache: join(dir, ".npm-cache"), DIR: join(dir, "ci-cdktf.out") },
      encoding: "utf8",
    });
  /** What Atlantis does when main moved: a new merge commit on top of the clone. */
  function mainMoves(dir: string): string {
    writeFileSync(join(dir, "from-main.txt"), "main moved");
    const git = (...args: string[]) =>
      execFileSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], { cwd: dir, encoding: "utf8" }).trim();
    git("add", "from-main.txt");
    git("commit", "-q", "-m", "atlantis-merge");
    return git("rev-parse", "HEAD");
  }
  const marker = (dir: string) => readFileSync(join(dir, "ci-cdktf.out", ".vault-gke-synthesized-commit"), "utf8").trim();

  it("synthesizes the commit the clone moved to before a plan, and refuses an apply of another commit's synth", async () => {
    const { dir, head } = makeClone();
    github.reviews = [review("alice", "APPROVED", head)];
    expect((await runHook(dir, head)).status).toBe(0);
    expect(step(dir, "check")).toMatchObject({ status: 0, stdout: `ci-cdktf.out already synthesized for ${head.slice(0, 12)}\n` });

    const merged = mainMoves(dir);
    const refused = step(dir, "check");
    expect(refused.status).toBe(1);
    expect(refused.stderr).toBe(
      `vault-gke: ci-cdktf.out does not hold the synth of ${merged.slice(0, 12)}, the commit this clone is at now (it moved after the plan): comment 'atlantis plan' again, then 'atlantis apply'\n`,
    );

    expect(step(dir, "ensure")).toMatchObject({ status: 0, stdout: `synthesized 1 stacks of ${merged.slice(0, 12)} into ci-cdktf.out\n` });
    expect(marker(dir)).toBe(merged);
    expect(readFileSync(join(dir, "synth-count"), "utf8")).toBe("xx");
  });

  it("fails a plan whose clone moved after other projects were planned, removing their plans", async () => {
    const { dir, head } = makeClone();
    github.reviews = [review("alice", "APPROVED", head)];
    expect((await runHook(dir, head)).status).toBe(0);
    const plan = join(dir, "ci-cdktf.out", "stacks", "example-platform", "default.tfplan");
    execFileSync("mkdir", ["-p", join(dir, "ci-cdktf.out", "stacks", "example-platform")]);
    writeFileSync(plan, "a plan made from the old synth");

    const merged = mainMoves(dir);
    const res = step(dir, "ensure");
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(
      new RegExp(
        `^vault-gke: this clone moved to ${merged.slice(0, 12)} while the pull request was being planned \\(main moved\\), so the 1 plan\\(s\\) already made came from another commit and were removed: comment 'atlantis plan' again\n$`,
      ),
    );
    expect(existsSync(plan)).toBe(false);
    expect(marker(dir)).toBe(merged);
    // The next plan command starts from the new synth.
    expect(step(dir, "ensure").status).toBe(0);
  });
});
