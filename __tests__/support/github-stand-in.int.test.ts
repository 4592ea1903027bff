// The GitHub stand-in the end-to-end test points Atlantis at: git over HTTPS, the REST calls, credentials, 404s.
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import { request } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GitHubStandIn, type ChangedFile, type IssueComment, type PullJson } from "./github-stand-in";

jest.setTimeout(60_000);

const USER = "atlantis-bot";
const TOKEN = "ghp_standin";
const HOOK = "ghs_hook";
const basic = (user: string, secret: string) => `Basic ${Buffer.from(`${user}:${secret}`).toString("base64")}`;

const gh = new GitHubStandIn({ owner: "acme", repo: "infra", atlantisUser: USER, atlantisToken: TOKEN, hookToken: HOOK });
let dir: string;
let work: string;
let mainTip: string;
let featureTip: string;

// No GIT_* from the caller (a git hook's GIT_DIR), no user or system configuration.
const gitEnv = () => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("GIT_"))),
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_TERMINAL_PROMPT: "0",
  GIT_SSL_CAINFO: gh.caFile,
  GIT_AUTHOR_NAME: "dev",
  GIT_AUTHOR_EMAIL: "dev@acme.test",
  GIT_COMMITTER_NAME: "dev",
  GIT_COMMITTER_EMAIL: "dev@acme.test",
});
/** Local git only: the stand-in serves from this process, so git talking to it must not block the event loop. */
const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", args, { cwd, env: gitEnv(), stdio: ["ignore", "pipe", "pipe"] })
    .toString()
    .trim();
/** git that talks to the stand-in. */
const remoteGit = (cwd: string, ...args: string[]) =>
  new Promise<string>((resolve, reject) =>
    execFile("git", args, { cwd, env: gitEnv() }, (error, stdout, stderr) => (error ? reject(new Error(`${error.message}${stderr}`)) : resolve(stdout.trim()))),
  );

function api(method: string, path: string, auth?: string, body?: unknown): Promise<{ status: number; headers: IncomingHttpHeaders; json: unknown }> {
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const headers: Record<string, string | number> = { Accept: "application/vnd.github+json" };
  if (auth) headers.Authorization = auth;
  if (data) Object.assign(headers, { "Content-Type": "application/json", "Content-Length": data.length });
  return new Promise((resolve, reject) => {
    const req = request(`${gh.url}${path}`, { method, headers, ca: readFileSync(gh.caFile), agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode ?? 0, headers: res.headers, json: text ? JSON.parse(text) : undefined });
      });
    });
    req.on("error", reject);
    req.end(data);
  });
}
const atlantis = basic(USER, TOKEN);
const repoPath = "/api/v3/repos/acme/infra";

beforeAll(async () => {
  await gh.start();
  dir = mkdtempSync(join(tmpdir(), "vault-gke-github-test-"));
  work = join(dir, "work");
  git(dir, "init", "-q", "-b", "main", work);
  writeFileSync(join(work, "a.txt"), "one\n");
  git(work, "add", "-A");
  git(work, "commit", "-q", "-m", "first");
  writeFileSync(join(work, "b.txt"), "two\n");
  git(work, "add", "-A");
  git(work, "commit", "-q", "-m", "second");
  mainTip = git(work, "rev-parse", "HEAD");
  git(work, "checkout", "-q", "-b", "feature");
  writeFileSync(join(work, "new.tf"), "# new\n");
  writeFileSync(join(work, "a.txt"), "one, changed\n");
  git(work, "add", "-A");
  git(work, "commit", "-q", "-m", "feature");
  featureTip = git(work, "rev-parse", "HEAD");
  git(work, "checkout", "-q", "main");
  gh.initFrom(work);
  gh.push(work, "feature:feature");
  gh.setPull({ number: 1, headRef: "feature", baseRef: "main", title: "Add new.tf", author: "bob" });
});

afterAll(async () => {
  await gh.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it("serves the repository over git smart HTTP with the credentials in the URL", async () => {
  const url = new URL(gh.cloneUrl);
  url.username = USER;
  url.password = TOKEN;
  const clone = join(dir, "clone");
  await remoteGit(dir, "clone", "-q", url.href, clone);
  expect(git(clone, "rev-parse", "HEAD")).toBe(mainTip);
  await remoteGit(clone, "fetch", "-q", "origin", "feature");
  expect(git(clone, "rev-parse", "FETCH_HEAD")).toBe(featureTip);
  expect(gh.requests.filter((r) => r.path.startsWith("/acme/infra.git/")).every((r) => r.status === 200)).toBe(true);
});

it("passes gzipped request bodies to http-backend", async () => {
  // 40 more branches: the clone's wants exceed 1 KiB, so git gzips the request.
  const commits = Array.from(
    { length: 40 },
    (_, i) => `commit refs/heads/many/${i}\ncommitter dev <dev@acme.test> 1700000000 +0000\ndata 8\nmany ${String(i).padStart(3, "0")}\n\n`,
  );
  execFileSync("git", ["--git-dir", gh.bareDir, "fast-import", "--quiet"], { input: commits.join(""), env: gitEnv() });
  const before = gh.requests.length;
  const clone = join(dir, "clone-many");
  await remoteGit(dir, "clone", "-q", "--no-checkout", gh.cloneUrl, clone);
  expect(git(clone, "rev-parse", "origin/many/39")).toBe(gh.revParse("many/39"));
  const gzipped = gh.requests.slice(before).filter((r) => r.contentEncoding === "gzip");
  expect(gzipped.length).toBeGreaterThan(0);
  expect(gzipped.every((r) => r.status === 200)).toBe(true);
});

it("answers the pull request with the branch tips and the clone URL", async () => {
  const res = await api("GET", `${repoPath}/pulls/1`, atlantis);
  expect(res.status).toBe(200);
  const pull = res.json as PullJson;
  expect(pull).toMatchObject({ number: 1, state: "open", draft: false, title: "Add new.tf", user: { login: "bob" } });
  expect(pull).toMatchObject({ mergeable: true, mergeable_state: "clean" });
  expect(pull.head).toMatchObject({ sha: featureTip, ref: "feature" });
  expect(pull.base).toMatchObject({ sha: mainTip, ref: "main" });
  expect(pull.head.repo.clone_url).toBe(`${gh.url}/acme/infra.git`);
  expect(new URL(pull.base.repo.clone_url).pathname).toBe(`/${pull.base.repo.full_name}.git`);
  expect(gh.pullRequestEvent(1, "opened")).toMatchObject({ action: "opened", number: 1, pull_request: { head: { sha: featureTip } } });

  // The head moves with a push.
  git(work, "checkout", "-q", "feature");
  writeFileSync(join(work, "old.txt"), "old\n");
  git(work, "add", "-A");
  git(work, "commit", "-q", "-m", "more");
  git(work, "checkout", "-q", "main");
  gh.push(work, "feature:feature");
  featureTip = gh.revParse("feature");
  expect(((await api("GET", `${repoPath}/pulls/1`, atlantis)).json as PullJson).head.sha).toBe(featureTip);
});

it("lists the pull request's files from the merge base", async () => {
  const res = await api("GET", `${repoPath}/pulls/1/files?per_page=300`, atlantis);
  expect(res.status).toBe(200);
  const files = res.json as ChangedFile[];
  expect(files.map((f) => [f.filename, f.status])).toEqual([
    ["a.txt", "modified"],
    ["new.tf", "added"],
    ["old.txt", "added"],
  ]);
  expect(res.headers.link).toBeUndefined();
});

it("pages reviews at 100 per page, with a Link to the next, and answers permissions to the hook's token", async () => {
  const review = (i: number) => ({ user: { login: `r${i}` }, state: "COMMENTED" as const, commit_id: featureTip, author_association: "MEMBER" });
  gh.reviews[1] = Array.from({ length: 150 }, (_, i) => review(i));
  const first = await api("GET", `${repoPath}/pulls/1/reviews?per_page=300`, atlantis);
  expect(first.json).toHaveLength(100);
  expect(first.headers.link).toMatch(/[?&]page=2[^>]*>; rel="next"/);
  const second = await api("GET", `${repoPath}/pulls/1/reviews?per_page=300&page=2`, `Bearer ${HOOK}`);
  expect(second.json).toHaveLength(50);
  expect(second.headers.link).toBeUndefined();
  gh.reviews[1] = [];
  const approved = gh.approve(1, "alice");
  expect((await api("GET", `${repoPath}/pulls/1/reviews?per_page=100&page=1`, `Bearer ${HOOK}`)).json).toEqual([{ id: 80_000, ...approved }]);

  gh.permissions.alice = "maintain";
  const permission = await api("GET", `${repoPath}/collaborators/alice/permission`, `Bearer ${HOOK}`);
  expect(permission.json).toMatchObject({ permission: "write", role_name: "maintain" });
  expect((await api("GET", `${repoPath}/collaborators/mallory/permission`, `Bearer ${HOOK}`)).status).toBe(404);
  expect(gh.requests.filter((r) => r.path.includes("/collaborators/")).map((r) => r.credential)).toEqual(["hook", "hook"]);
});

it("records statuses and comments, lists comments, and minimizes one", async () => {
  const pending = { state: "pending", context: "atlantis/plan", description: "Plan in progress" };
  const status = await api("POST", `${repoPath}/statuses/${featureTip}`, atlantis, pending);
  expect(status.status).toBe(201);
  expect(status.json).toMatchObject(pending);
  await api("POST", `${repoPath}/statuses/${featureTip}`, atlantis, { state: "success", context: "atlantis/plan", description: "1/1 planned" });
  expect(gh.statuses(featureTip)).toHaveLength(2);
  expect(gh.latestStatus(featureTip, "atlantis/plan")).toMatchObject({ state: "success", description: "1/1 planned" });
  expect((await api("POST", `${repoPath}/statuses/${featureTip}`, atlantis, { state: "bogus" })).status).toBe(422);

  const waiting = gh.waitForComment(1, (c) => c.body.includes("Ran Plan"), 5_000);
  const posted = await api("POST", `${repoPath}/issues/1/comments`, atlantis, { body: "Ran Plan for 1 project" });
  expect(posted.status).toBe(201);
  expect(posted.json).toMatchObject({ body: "Ran Plan for 1 project", user: { login: USER } });
  const seen = await waiting;
  expect(seen.body).toBe("Ran Plan for 1 project");

  const listed = await api("GET", `${repoPath}/issues/1/comments?sort=created&direction=asc`, atlantis);
  const user = expect.objectContaining({ login: USER });
  expect(listed.json).toEqual([expect.objectContaining({ id: seen.id, node_id: seen.node_id, body: seen.body, user })]);

  const query = "mutation($input:MinimizeCommentInput!){minimizeComment(input: $input){minimizedComment{isMinimized,minimizedReason,viewerCanMinimize}}}";
  const minimized = await api("POST", "/api/graphql", atlantis, { query, variables: { input: { subjectId: seen.node_id, classifier: "OUTDATED" } } });
  const minimizedComment = { isMinimized: true, minimizedReason: "OUTDATED", viewerCanMinimize: true };
  expect(minimized.json).toEqual({ data: { minimizeComment: { minimizedComment } } });
  expect((gh.comments(1)[0] as IssueComment).minimized).toBe("OUTDATED");
  expect((await api("POST", "/api/graphql", atlantis, { query: "{ viewer { login } }" })).json).toEqual({ data: null, errors: [{ message: "not emulated" }] });
  await expect(gh.waitForComment(1, () => true, 300)).rejects.toThrow(/no new comment on pull request #1/);
});

it("refuses wrong or missing credentials with 401", async () => {
  for (const auth of [basic(USER, "wrong"), "Bearer wrong", undefined]) {
    const res = await api("GET", `${repoPath}/pulls/1`, auth);
    expect(res.status).toBe(401);
    expect(res.json).toEqual(expect.objectContaining({ message: "Bad credentials" }));
  }
  expect(gh.requests.slice(-3).map((r) => r.credential)).toEqual(["bad", "bad", "none"]);

  // git sends the credentials of its URL only when challenged: a private repository.
  gh.gitRequiresAuth = true;
  try {
    await expect(remoteGit(dir, "ls-remote", gh.cloneUrl.replace("https://", `https://${USER}:wrong@`), "main")).rejects.toThrow(/Authentication failed/);
    await expect(remoteGit(dir, "ls-remote", gh.cloneUrl)).rejects.toThrow(/could not read Username|Authentication failed/);
    const before = gh.requests.length;
    expect(await remoteGit(dir, "ls-remote", gh.cloneUrl.replace("https://", `https://${USER}:${TOKEN}@`), "main")).toBe(`${mainTip}\trefs/heads/main`);
    expect(gh.requests.slice(before).map((r) => [r.credential, r.status])).toEqual([
      ["none", 401],
      ["atlantis", 200],
      ["atlantis", 200],
    ]);
  } finally {
    gh.gitRequiresAuth = false;
  }
});

it("answers 404 to anything not emulated, and records it", async () => {
  const res = await api("GET", `${repoPath}/commits/${featureTip}/check-runs?per_page=100`, atlantis);
  expect(res.status).toBe(404);
  expect(res.json).toEqual({ message: "Not Found" });
  expect((await api("GET", `${repoPath}/pulls/2`, atlantis)).status).toBe(404);
  expect(gh.notFound().map((r) => r.path)).toEqual([
    `${repoPath}/collaborators/mallory/permission`,
    `${repoPath}/commits/${featureTip}/check-runs?per_page=100`,
    `${repoPath}/pulls/2`,
  ]);
  expect(gh.errors).toEqual([]);
});

it("sends webhooks as GitHub does", async () => {
  let got: { headers: IncomingHttpHeaders; body: string } | undefined;
  const atlantisLike = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      got = { headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      res.end("Processing...");
    });
  });
  await new Promise<void>((resolve) => atlantisLike.listen(0, "127.0.0.1", resolve));
  try {
    const url = `http://127.0.0.1:${(atlantisLike.address() as AddressInfo).port}`;
    const res = await gh.sendWebhook(url, "issue_comment", gh.issueCommentEvent(1, "atlantis plan", "alice"));
    expect(res).toMatchObject({ status: 200, body: "Processing..." });
    expect(got?.headers).toMatchObject({ "content-type": "application/json", "x-github-event": "issue_comment" });
    expect(got?.headers["x-github-delivery"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(got?.body ?? "{}")).toMatchObject({
      action: "created",
      comment: { body: "atlantis plan", user: { login: "alice" } },
      issue: { number: 1, pull_request: { url: `${gh.url}${repoPath}/pulls/1` } },
      repository: { full_name: "acme/infra", clone_url: gh.cloneUrl },
      sender: { login: "alice" },
    });
    expect(gh.comments(1)).toHaveLength(1);
  } finally {
    await new Promise<void>((resolve) => atlantisLike.close(() => resolve()));
  }
});
