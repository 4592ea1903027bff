// A stand-in for GitHub Enterprise on loopback, for end-to-end tests that run a real Atlantis server
// (v0.47.1, --gh-hostname=127.0.0.1:PORT) and the runners' pre-workflow hook against it. Over HTTPS with a
// throwaway CA (caFile: SSL_CERT_FILE for Atlantis, GIT_SSL_CAINFO for git, CURL_CA_BUNDLE for the hook) it serves
// one repository, {owner}/{repo}, and its pull requests:
//   - REST under /api/v3/repos/{owner}/{repo}/: pulls/{n}, pulls/{n}/reviews, pulls/{n}/files,
//     collaborators/{user}/permission, statuses/{sha} (POST), issues/{n}/comments (GET, POST),
//     issues/comments/{id}/reactions (POST); lists paged as GitHub pages them (1-based, per_page at most 100,
//     Link rel="next"/"last", which go-github follows);
//   - GraphQL at /api/graphql: only the minimizeComment mutation (Atlantis hides its older plan comments with it);
//   - the bare repository over git smart HTTP at /{owner}/{repo}.git, through `git http-backend` as CGI.
// Pull requests' head and base SHAs are the branch tips in the bare repository at each request (tests push with
// plain git to bareDir), and their files are `git diff --name-status` from the merge base, as GitHub computes them.
// Credentials: HTTP Basic atlantisUser:atlantisToken (how Atlantis calls GitHub Enterprise) or Bearer hookToken
// (the hook); anything else gets 401 "Bad credentials". Git takes the Atlantis credential or none.
// Every request is recorded with the status answered; anything not emulated gets 404 and stays in the record,
// so a test can assert Atlantis asked for nothing else. It answers from the test's own process: talk to it
// asynchronously (execFileSync("git", ["clone", ...]) would block the event loop that answers, and hang).
// Its synchronous helpers (initFrom, push, revParse, pullJson, the event builders) run local git only.
// Not emulated: rate limits and their headers, the checks API, combined statuses, branch protection and rulesets,
// mergeability (always mergeable, "clean"), refs/pull/N/head and merge commits, forks, teams, apps, GraphQL beyond
// minimizeComment, webhook signatures (sendWebhook signs nothing: run Atlantis without a webhook secret), ETags,
// pushes over HTTP, GitHub's validation beyond a status's state and a comment's length.
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from "node:http";
import { createServer, request as httpsRequest, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeTestPki } from "./pki";

export interface Review {
  readonly id?: number;
  readonly user: { readonly login: string };
  readonly state: "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED" | "PENDING";
  readonly commit_id: string;
  readonly author_association: string;
  readonly submitted_at?: string;
}

/** A collaborator's role; the API's `permission` reports maintain as write and triage as read, `role_name` the role. */
export type Role = "admin" | "maintain" | "write" | "triage" | "read" | "none";

export interface PullSpec {
  readonly number: number;
  readonly headRef: string;
  /** Default: the branch initFrom made. */
  readonly baseRef?: string;
  readonly title?: string;
  /** The author's login (default "octocat"). */
  readonly author?: string;
}

export interface IssueComment {
  readonly id: number;
  readonly node_id: string;
  readonly body: string;
  readonly user: { readonly login: string };
  readonly html_url: string;
  readonly created_at: string;
  /** When the stand-in received it (Date.now()). */
  readonly at: number;
  /** The classifier of a minimizeComment mutation on it (Atlantis: OUTDATED). */
  minimized?: string;
}

export interface CommitStatus {
  readonly id: number;
  readonly sha: string;
  readonly state: string;
  readonly context: string;
  readonly description: string;
  readonly target_url: string;
  readonly at: number;
}

export type Credential = "atlantis" | "hook" | "none" | "bad";

export interface RecordedRequest {
  readonly method: string;
  /** Path with query. */
  readonly path: string;
  /** Whose credential came (Basic or Bearer): Atlantis's, the hook's, none, or a wrong one. */
  readonly credential: Credential;
  readonly contentEncoding?: string;
  /** The parsed JSON body of an API request, if any. */
  body?: unknown;
  status?: number;
  readonly at: number;
}

export interface RepoJson {
  readonly id: number;
  readonly node_id: string;
  readonly name: string;
  readonly full_name: string;
  readonly owner: { readonly login: string; readonly type: string };
  readonly private: boolean;
  readonly html_url: string;
  readonly clone_url: string;
  readonly url: string;
  readonly default_branch: string;
}

export interface PullJson {
  readonly id: number;
  readonly node_id: string;
  readonly number: number;
  readonly state: "open" | "closed";
  readonly locked: boolean;
  readonly draft: boolean;
  readonly title: string;
  readonly body: string;
  readonly url: string;
  readonly html_url: string;
  readonly user: { readonly login: string; readonly type: string };
  readonly merged: boolean;
  readonly mergeable: boolean;
  readonly mergeable_state: string;
  readonly created_at: string;
  readonly updated_at: string;
  readonly closed_at: string | null;
  readonly head: { readonly label: string; readonly ref: string; readonly sha: string; readonly user: { readonly login: string }; readonly repo: RepoJson };
  readonly base: { readonly label: string; readonly ref: string; readonly sha: string; readonly user: { readonly login: string }; readonly repo: RepoJson };
}

export interface ChangedFile {
  readonly filename: string;
  readonly status: "added" | "modified" | "removed" | "renamed" | "copied" | "changed";
  readonly previous_filename?: string;
  readonly additions: number;
  readonly deletions: number;
  readonly changes: number;
}

export interface GitHubStandInOptions {
  readonly owner: string;
  readonly repo: string;
  readonly atlantisUser: string;
  readonly atlantisToken: string;
  readonly hookToken: string;
  /** The login of what the hook token posts (default: atlantisUser). */
  readonly hookUser?: string;
  /** Refuse anonymous git requests (default false: git clones anonymously, as from a public repository). */
  readonly gitRequiresAuth?: boolean;
}

interface Pull {
  readonly number: number;
  readonly headRef: string;
  readonly baseRef: string;
  readonly title: string;
  readonly author: string;
  state: "open" | "closed";
  readonly createdAt: string;
  closedAt: string | null;
}

type Send = (status: number, body: unknown, headers?: OutgoingHttpHeaders) => void;

const GITHUB_STATUS_STATES = ["error", "failure", "pending", "success"];
const MAX_COMMENT = 65_536;
const FILE_STATUS: Record<string, ChangedFile["status"]> = { A: "added", M: "modified", D: "removed", R: "renamed", C: "copied", T: "changed" };

const asObject = (v: unknown): Record<string, unknown> => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const asString = (v: unknown): string => (typeof v === "string" ? v : "");

/** The environment without GIT_* variables (a test run from a git hook has GIT_DIR set, which would redirect every git here). */
function gitEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("GIT_")) env[k] = v;
  return { ...env, ...extra };
}

function gitAsync(args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile("git", args, { env: gitEnv(), maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
      error ? reject(new Error(`git ${args.join(" ")}: ${String(stderr).trim() || error.message}`)) : resolve(String(stdout)),
    ),
  );
}

function gitSync(args: string[]): string {
  return execFileSync("git", args, { env: gitEnv(), stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 }).toString();
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export class GitHubStandIn {
  /** Reviews per pull request number, in the order GitHub lists them (oldest first). */
  reviews: Record<number, Review[]> = {};
  /** Each collaborator's role; a login not here gets 404 (no collaborator). */
  permissions: Record<string, Role> = {};
  readonly requests: RecordedRequest[] = [];
  /** minimizeComment mutations, in order. */
  readonly minimized: { readonly subjectId: string; readonly classifier: string }[] = [];
  /** Handler failures and git http-backend failures (tests can assert none). */
  readonly errors: string[] = [];
  /** Refuse anonymous git requests (git then sends the credentials of its URL, as for a private repository). */
  gitRequiresAuth: boolean;

  private server?: Server;
  private dir?: string;
  private ca?: string;
  private defaultBranch = "main";
  private nextId = 1001;
  private readonly pulls = new Map<number, Pull>();
  private readonly commentsByPull = new Map<number, IssueComment[]>();
  private readonly statusesBySha = new Map<string, CommitStatus[]>();
  private readonly cursors = new Map<number, number>();
  private readonly children = new Set<ChildProcess>();

  constructor(readonly options: GitHubStandInOptions) {
    this.gitRequiresAuth = options.gitRequiresAuth ?? false;
  }

  get owner(): string {
    return this.options.owner;
  }

  get repo(): string {
    return this.options.repo;
  }

  get fullName(): string {
    return `${this.owner}/${this.repo}`;
  }

  /** "127.0.0.1:PORT", for --gh-hostname. */
  get host(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) throw new Error("the GitHub stand-in is not listening");
    return `127.0.0.1:${address.port}`;
  }

  get url(): string {
    return `https://${this.host}`;
  }

  get cloneUrl(): string {
    return `${this.url}/${this.fullName}.git`;
  }

  /** The PEM file of the CA that signed the server's certificate. */
  get caFile(): string {
    if (!this.ca) throw new Error("the GitHub stand-in is not started");
    return this.ca;
  }

  /** The served bare repository: push to it with plain git. */
  get bareDir(): string {
    if (!this.dir) throw new Error("the GitHub stand-in is not started");
    return join(this.dir, "repos", this.owner, `${this.repo}.git`);
  }

  async start(): Promise<void> {
    if (this.server) return;
    this.dir = mkdtempSync(join(tmpdir(), "vault-gke-github-"));
    mkdirSync(join(this.dir, "pki"));
    const pki = makeTestPki(join(this.dir, "pki"), ["localhost"], ["127.0.0.1"]);
    this.ca = pki.caCertFile;
    const server = createServer({ key: readFileSync(pki.keyFile), cert: readFileSync(pki.certFile) }, (req, res) => void this.handle(req, res));
    this.server = server;
    // Port 0: the kernel picks a free loopback port.
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
  }

  async stop(): Promise<void> {
    for (const child of this.children) child.kill("SIGKILL");
    this.children.clear();
    const server = this.server;
    this.server = undefined;
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Go's and curl's clients keep connections alive: close them, or close() waits for their idle timeout.
      server.closeAllConnections();
      await closed;
    }
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }

  // ---- the repository ----

  /** Creates the bare repository and pushes workTree's HEAD to refs/heads/{branch}, the default branch. */
  initFrom(workTree: string, branch = "main"): void {
    mkdirSync(join(this.bareDir, ".."), { recursive: true });
    gitSync(["init", "-q", "--bare", `--initial-branch=${branch}`, this.bareDir]);
    this.defaultBranch = branch;
    this.push(workTree, `+HEAD:refs/heads/${branch}`);
  }

  /** `git push <bareDir> <refspec>` from workTree. */
  push(workTree: string, refspec: string): void {
    gitSync(["-C", workTree, "push", "-q", this.bareDir, refspec]);
  }

  /** A ref's commit in the bare repository, for example revParse("feature") or revParse("refs/heads/main"). */
  revParse(ref: string): string {
    return gitSync(["--git-dir", this.bareDir, "rev-parse", "--verify", "-q", `${ref}^{commit}`]).trim();
  }

  // ---- pull requests and what tests read ----

  setPull(spec: PullSpec): void {
    this.pulls.set(spec.number, {
      number: spec.number,
      headRef: spec.headRef,
      baseRef: spec.baseRef ?? this.defaultBranch,
      title: spec.title ?? `Pull request #${spec.number}`,
      author: spec.author ?? "octocat",
      state: "open",
      createdAt: new Date().toISOString(),
      closedAt: null,
    });
  }

  closePull(n: number): void {
    const pull = this.pull(n);
    pull.state = "closed";
    pull.closedAt = new Date().toISOString();
  }

  /** Adds an APPROVED review by login at the head branch's current tip. */
  approve(n: number, login: string, authorAssociation = "MEMBER"): Review {
    const review: Review = {
      user: { login },
      state: "APPROVED",
      commit_id: this.revParse(`refs/heads/${this.pull(n).headRef}`),
      author_association: authorAssociation,
      submitted_at: new Date().toISOString(),
    };
    (this.reviews[n] ??= []).push(review);
    return review;
  }

  /** The comments posted through the API on pull n, in order (webhook-made user comments are not among them). */
  comments(n: number): readonly IssueComment[] {
    return this.commentsByPull.get(n) ?? [];
  }

  /** The statuses posted for sha, in order. */
  statuses(sha: string): readonly CommitStatus[] {
    return this.statusesBySha.get(sha) ?? [];
  }

  latestStatus(sha: string, context: string): CommitStatus | undefined {
    const list = this.statuses(sha);
    for (let i = list.length - 1; i >= 0; i--) if (list[i].context === context) return list[i];
    return undefined;
  }

  /** Requests answered 404 (nothing emulated there). */
  notFound(): RecordedRequest[] {
    return this.requests.filter((r) => r.status === 404);
  }

  /**
   * The first comment on pull n at index >= since (default: after the one this method last returned for n) that
   * matches; polls every 100 ms until timeoutMs.
   */
  async waitForComment(n: number, predicate: (c: IssueComment) => boolean, timeoutMs = 60_000, since?: number): Promise<IssueComment> {
    const deadline = Date.now() + timeoutMs;
    const from = since ?? this.cursors.get(n) ?? 0;
    for (;;) {
      const list = this.comments(n);
      for (let i = from; i < list.length; i++) {
        if (predicate(list[i])) {
          this.cursors.set(n, i + 1);
          return list[i];
        }
      }
      if (Date.now() >= deadline) {
        const seen = list.slice(from).map((c) => `#${c.id}: ${c.body.slice(0, 300)}`);
        throw new Error(`no new comment on pull request #${n} matched within ${timeoutMs} ms; new comments:\n${seen.join("\n---\n") || "(none)"}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  // ---- webhooks ----

  repoJson(): RepoJson {
    return {
      id: 4242,
      node_id: "R_standin",
      name: this.repo,
      full_name: this.fullName,
      owner: { login: this.owner, type: "Organization" },
      private: false,
      html_url: `${this.url}/${this.fullName}`,
      clone_url: this.cloneUrl,
      url: `${this.url}/api/v3/repos/${this.fullName}`,
      default_branch: this.defaultBranch,
    };
  }

  /** The pull request as GET pulls/{n} answers it now (SHAs read from the bare repository). */
  pullJson(n: number): PullJson {
    const pull = this.pull(n);
    return this.toJson(pull, this.revParse(`refs/heads/${pull.headRef}`), this.revParse(`refs/heads/${pull.baseRef}`));
  }

  /** A pull_request event; "closed" closes the pull request first, "reopened" reopens it. */
  pullRequestEvent(n: number, action: "opened" | "reopened" | "synchronize" | "closed" | "ready_for_review"): Record<string, unknown> {
    const pull = this.pull(n);
    if (action === "closed" && pull.state === "open") this.closePull(n);
    if (action === "reopened") Object.assign(pull, { state: "open", closedAt: null });
    return { action, number: n, pull_request: this.pullJson(n), repository: this.repoJson(), sender: { login: pull.author, type: "User" } };
  }

  /** An issue_comment "created" event: commenter commented body on pull n (the comment is not added to comments(n)). */
  issueCommentEvent(n: number, body: string, commenter: string): Record<string, unknown> {
    const pull = this.pull(n);
    const id = this.nextId++;
    return {
      action: "created",
      comment: {
        id,
        node_id: `IC_standin_${id}`,
        body,
        user: { login: commenter, type: "User" },
        html_url: `${this.url}/${this.fullName}/pull/${n}#issuecomment-${id}`,
        created_at: new Date().toISOString(),
      },
      issue: {
        number: n,
        title: pull.title,
        state: pull.state,
        user: { login: pull.author, type: "User" },
        html_url: `${this.url}/${this.fullName}/pull/${n}`,
        pull_request: { url: `${this.url}/api/v3/repos/${this.fullName}/pulls/${n}`, html_url: `${this.url}/${this.fullName}/pull/${n}` },
      },
      repository: this.repoJson(),
      sender: { login: commenter, type: "User" },
    };
  }

  /** POSTs payload to `${atlantisUrl}/events` as GitHub delivers a webhook (no signature). */
  async sendWebhook(atlantisUrl: string, event: "pull_request" | "issue_comment", payload: unknown): Promise<{ status: number; body: string; ms: number }> {
    const target = new URL(`${atlantisUrl.replace(/\/+$/, "")}/events`);
    const data = Buffer.from(JSON.stringify(payload));
    const started = Date.now();
    const send = target.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const headers = {
        "Content-Type": "application/json",
        "Content-Length": data.length,
        "User-Agent": "GitHub-Hookshot/stand-in",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": randomUUID(),
      };
      // agent: false, so no keep-alive socket outlives the test.
      const req = send(target, { method: "POST", headers, agent: false }, (res) => {
        readBody(res).then((body) => resolve({ status: res.statusCode ?? 0, body: body.toString("utf8"), ms: Date.now() - started }), reject);
      });
      req.on("error", reject);
      req.end(data);
    });
  }

  // ---- serving ----

  private pull(n: number): Pull {
    const pull = this.pulls.get(n);
    if (!pull) throw new Error(`the GitHub stand-in has no pull request #${n}`);
    return pull;
  }

  private toJson(pull: Pull, headSha: string, baseSha: string): PullJson {
    const repo = this.repoJson();
    const side = (ref: string, sha: string) => ({ label: `${this.owner}:${ref}`, ref, sha, user: { login: this.owner }, repo });
    return {
      id: 700_000 + pull.number,
      node_id: `PR_standin_${pull.number}`,
      number: pull.number,
      state: pull.state,
      locked: false,
      draft: false,
      title: pull.title,
      body: "",
      url: `${this.url}/api/v3/repos/${this.fullName}/pulls/${pull.number}`,
      html_url: `${this.url}/${this.fullName}/pull/${pull.number}`,
      user: { login: pull.author, type: "User" },
      merged: false,
      mergeable: true,
      mergeable_state: "clean",
      created_at: pull.createdAt,
      updated_at: new Date().toISOString(),
      closed_at: pull.closedAt,
      head: side(pull.headRef, headSha),
      base: side(pull.baseRef, baseSha),
    };
  }

  private credentialOf(header: string | undefined): Credential {
    if (!header) return "none";
    const space = header.indexOf(" ");
    const scheme = header.slice(0, space).toLowerCase();
    const value = header.slice(space + 1).trim();
    const { atlantisUser, atlantisToken, hookToken } = this.options;
    if (scheme === "basic") {
      const decoded = Buffer.from(value, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon < 0) return "bad";
      const [user, secret] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
      if (user === atlantisUser && secret === atlantisToken) return "atlantis";
      return secret === hookToken ? "hook" : "bad";
    }
    // GitHub takes "token X" as it takes "Bearer X".
    if (scheme === "bearer" || scheme === "token") {
      if (value === hookToken) return "hook";
      return value === atlantisToken ? "atlantis" : "bad";
    }
    return "bad";
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "https://stand-in");
    const contentEncoding = req.headers["content-encoding"];
    const record: RecordedRequest = {
      method: req.method ?? "GET",
      path: url.pathname + url.search,
      credential: this.credentialOf(req.headers.authorization),
      ...(contentEncoding ? { contentEncoding } : {}),
      at: Date.now(),
    };
    this.requests.push(record);
    const send: Send = (status, body, headers = {}) => {
      record.status = status;
      res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", ...headers });
      res.end(JSON.stringify(body));
    };
    try {
      const gitPrefix = `/${this.fullName}.git/`;
      if (url.pathname.startsWith(gitPrefix)) return this.serveGit(req, res, url, record);
      if (record.credential === "none" || record.credential === "bad") {
        req.resume();
        return send(401, { message: "Bad credentials", documentation_url: "https://docs.github.com/rest" });
      }
      const raw = await readBody(req);
      if (raw.length > 0) {
        try {
          record.body = JSON.parse(raw.toString("utf8"));
        } catch {
          record.body = raw.toString("utf8");
        }
      }
      if (url.pathname === "/api/graphql" && record.method === "POST") return this.graphql(record, send);
      const prefix = `/api/v3/repos/${this.fullName}/`;
      if (!url.pathname.startsWith(prefix)) return send(404, { message: "Not Found" });
      await this.rest(record, url, url.pathname.slice(prefix.length).split("/").map(decodeURIComponent), send);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.errors.push(`${record.method} ${record.path}: ${message}`);
      if (!res.headersSent) send(500, { message: `stand-in failure: ${message}` });
      else res.destroy();
    }
  }

  private async rest(record: RecordedRequest, url: URL, parts: string[], send: Send): Promise<void> {
    const [kind, id, sub, leaf] = parts;
    const method = record.method;
    const body = asObject(record.body);
    const login = record.credential === "hook" ? (this.options.hookUser ?? this.options.atlantisUser) : this.options.atlantisUser;
    const pull = kind === "pulls" || (kind === "issues" && sub === "comments") ? this.pulls.get(Number(id)) : undefined;
    const notFound = () => send(404, { message: "Not Found" });

    if (kind === "pulls" && parts.length === 2 && method === "GET") {
      if (!pull) return notFound();
      const [head, base] = await Promise.all([this.tip(pull.headRef), this.tip(pull.baseRef)]);
      return send(200, this.toJson(pull, head, base));
    }
    if (kind === "pulls" && parts.length === 3 && sub === "reviews" && method === "GET") {
      if (!pull) return notFound();
      const reviews = (this.reviews[pull.number] ?? []).map((r, i) => ({ id: 80_000 + i, ...r }));
      return this.page(url, reviews, send);
    }
    if (kind === "pulls" && parts.length === 3 && sub === "files" && method === "GET") {
      if (!pull) return notFound();
      return this.page(url, await this.changedFiles(pull), send);
    }
    if (kind === "collaborators" && parts.length === 3 && sub === "permission" && method === "GET") {
      const role = this.permissions[id];
      if (!role) return notFound();
      const permission = role === "maintain" ? "write" : role === "triage" ? "read" : role;
      return send(200, { permission, role_name: role, user: { login: id, type: "User" } });
    }
    if (kind === "statuses" && parts.length === 2 && method === "POST") {
      const state = asString(body.state);
      if (!GITHUB_STATUS_STATES.includes(state)) return send(422, { message: "Validation Failed", errors: [{ field: "state", code: "invalid" }] });
      const status: CommitStatus = {
        id: this.nextId++,
        sha: id,
        state,
        context: asString(body.context) || "default",
        description: asString(body.description),
        target_url: asString(body.target_url),
        at: Date.now(),
      };
      const list = this.statusesBySha.get(id) ?? [];
      list.push(status);
      this.statusesBySha.set(id, list);
      const created = new Date(status.at).toISOString();
      const { at: _at, sha: _sha, ...json } = status;
      const statusUrl = `${this.url}/api/v3/repos/${this.fullName}/statuses/${id}`;
      return send(201, { ...json, url: statusUrl, created_at: created, updated_at: created, creator: { login } });
    }
    if (kind === "issues" && parts.length === 3 && sub === "comments" && method === "POST") {
      if (!pull) return notFound();
      const text = asString(body.body);
      const invalid = (error: Record<string, string>) => send(422, { message: "Validation Failed", errors: [{ field: "body", ...error }] });
      if (!text) return invalid({ code: "missing_field" });
      if (text.length > MAX_COMMENT) return invalid({ code: "custom", message: "body is too long" });
      const commentId = this.nextId++;
      const at = Date.now();
      const comment: IssueComment = {
        id: commentId,
        node_id: `IC_standin_${commentId}`,
        body: text,
        user: { login },
        html_url: `${this.url}/${this.fullName}/pull/${pull.number}#issuecomment-${commentId}`,
        created_at: new Date(at).toISOString(),
        at,
      };
      const list = this.commentsByPull.get(pull.number) ?? [];
      list.push(comment);
      this.commentsByPull.set(pull.number, list);
      return send(201, this.commentJson(comment));
    }
    if (kind === "issues" && parts.length === 3 && sub === "comments" && method === "GET") {
      if (!pull) return notFound();
      return this.page(url, this.comments(pull.number).map((c) => this.commentJson(c)), send);
    }
    if (kind === "issues" && id === "comments" && parts.length === 4 && leaf === "reactions" && method === "POST") {
      return send(201, { id: this.nextId++, content: asString(body.content), user: { login } });
    }
    return notFound();
  }

  private commentJson(c: IssueComment): Record<string, unknown> {
    const { at: _at, minimized: _minimized, ...json } = c;
    return { ...json, user: { ...c.user, type: "User" }, updated_at: c.created_at, author_association: "NONE" };
  }

  /** A page of items, paged as GitHub pages lists: 1-based, per_page default 30 and at most 100, Link to the next and last. */
  private page(url: URL, items: readonly unknown[], send: Send): void {
    const perPage = Math.min(Math.max(Math.trunc(Number(url.searchParams.get("per_page"))) || 30, 1), 100);
    const page = Math.max(Math.trunc(Number(url.searchParams.get("page"))) || 1, 1);
    const last = Math.max(Math.ceil(items.length / perPage), 1);
    const headers: OutgoingHttpHeaders = {};
    if (page < last) {
      const link = (p: number) => {
        const u = new URL(url.pathname + url.search, this.url);
        u.searchParams.set("per_page", String(perPage));
        u.searchParams.set("page", String(p));
        return `<${u.href}>`;
      };
      headers.Link = `${link(page + 1)}; rel="next", ${link(last)}; rel="last"`;
    }
    send(200, items.slice((page - 1) * perPage, page * perPage), headers);
  }

  private async tip(branch: string): Promise<string> {
    return (await gitAsync(["--git-dir", this.bareDir, "rev-parse", "--verify", "-q", `refs/heads/${branch}^{commit}`])).trim();
  }

  /** The pull request's files: from the merge base of base and head to head, renames detected, as GitHub lists them. */
  private async changedFiles(pull: Pull): Promise<ChangedFile[]> {
    const [head, base] = await Promise.all([this.tip(pull.headRef), this.tip(pull.baseRef)]);
    const mergeBase = (await gitAsync(["--git-dir", this.bareDir, "merge-base", base, head])).trim();
    const out = await gitAsync(["--git-dir", this.bareDir, "diff", "--name-status", "-z", "-M", mergeBase, head]);
    const fields = out.split("\0");
    const files: ChangedFile[] = [];
    for (let i = 0; i + 1 < fields.length; ) {
      const code = fields[i++];
      const status = FILE_STATUS[code[0]] ?? "modified";
      const counts = { additions: 0, deletions: 0, changes: 0 };
      if (code[0] === "R" || code[0] === "C") {
        const [from, to] = [fields[i++], fields[i++]];
        files.push({ filename: to, status, previous_filename: from, ...counts });
      } else {
        files.push({ filename: fields[i++], status, ...counts });
      }
    }
    return files;
  }

  private graphql(record: RecordedRequest, send: Send): void {
    const body = asObject(record.body);
    const input = asObject(asObject(body.variables).input);
    if (!asString(body.query).includes("minimizeComment")) return send(200, { data: null, errors: [{ message: "not emulated" }] });
    const subjectId = asString(input.subjectId);
    const classifier = asString(input.classifier) || "OUTDATED";
    this.minimized.push({ subjectId, classifier });
    const comment = [...this.commentsByPull.values()].flat().find((c) => c.node_id === subjectId);
    if (!comment) {
      const message = `Could not resolve to a node with the global id of '${subjectId}'`;
      return send(200, { data: { minimizeComment: null }, errors: [{ type: "NOT_FOUND", message }] });
    }
    comment.minimized = classifier;
    send(200, { data: { minimizeComment: { minimizedComment: { isMinimized: true, minimizedReason: "OUTDATED", viewerCanMinimize: true } } } });
  }

  /** Git smart HTTP through `git http-backend` as CGI: the request body streams to its stdin, its output back. */
  private serveGit(req: IncomingMessage, res: ServerResponse, url: URL, record: RecordedRequest): void {
    const { credential } = record;
    if (credential === "bad" || credential === "hook" || (credential === "none" && this.gitRequiresAuth)) {
      req.resume();
      record.status = 401;
      res.writeHead(401, { "Content-Type": "text/plain", "WWW-Authenticate": 'Basic realm="GitHub stand-in"' });
      res.end("Authentication failed\n");
      return;
    }
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v.join(", ") : v;
    };
    const cgi: NodeJS.ProcessEnv = {
      GIT_PROJECT_ROOT: join(this.bareDir, "..", ".."),
      GIT_HTTP_EXPORT_ALL: "1",
      GATEWAY_INTERFACE: "CGI/1.1",
      SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
      REQUEST_METHOD: record.method,
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: header("content-type") ?? "",
      REMOTE_ADDR: req.socket.remoteAddress ?? "127.0.0.1",
    };
    // Without CONTENT_LENGTH (a chunked request) http-backend reads its stdin to the end.
    const length = header("content-length");
    if (length) cgi.CONTENT_LENGTH = length;
    // git gzips request bodies over 1 KiB; http-backend inflates them itself when told the encoding.
    const encoding = header("content-encoding");
    if (encoding) cgi.HTTP_CONTENT_ENCODING = encoding;
    // Protocol v2 is asked for in this header.
    const protocol = header("git-protocol");
    if (protocol) cgi.HTTP_GIT_PROTOCOL = protocol;
    if (credential === "atlantis") Object.assign(cgi, { REMOTE_USER: this.options.atlantisUser, AUTH_TYPE: "Basic" });

    const child = spawn("git", ["http-backend"], { env: gitEnv(cgi), stdio: ["pipe", "pipe", "pipe"] });
    this.children.add(child);
    const stderr: Buffer[] = [];
    child.stderr.on("data", (c: Buffer) => stderr.push(c));
    child.stdin.on("error", () => undefined); // http-backend may exit before reading a refused request's body
    req.pipe(child.stdin);

    let head = Buffer.alloc(0);
    let answered = false;
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const crlf = head.indexOf("\r\n\r\n");
      const lf = head.indexOf("\n\n");
      const [end, gap] = lf >= 0 && (crlf < 0 || lf < crlf) ? [lf, 2] : [crlf, 4];
      if (end < 0) return;
      child.stdout.off("data", onData);
      answered = true;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString("latin1").split(/\r?\n/)) {
        const colon = line.indexOf(":");
        if (colon <= 0) continue;
        const [name, value] = [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
        if (name.toLowerCase() === "status") status = parseInt(value, 10) || 500;
        else headers[name] = value;
      }
      record.status = status;
      res.writeHead(status, headers);
      res.write(head.subarray(end + gap));
      child.stdout.pipe(res);
    };
    child.stdout.on("data", onData);
    res.on("close", () => {
      if (!res.writableFinished && child.exitCode === null) child.kill("SIGKILL");
    });
    child.on("close", (code, signal) => {
      this.children.delete(child);
      const err = Buffer.concat(stderr).toString("utf8").trim();
      if (code !== 0 || (record.status ?? 0) >= 500) this.errors.push(`git http-backend ${record.method} ${record.path}: exit ${code ?? signal}: ${err}`);
      if (!answered) {
        record.status = 502;
        if (!res.headersSent) res.writeHead(502, { "Content-Type": "text/plain" });
        res.end(`git http-backend gave no response: ${err}\n`);
      }
    });
  }
}
