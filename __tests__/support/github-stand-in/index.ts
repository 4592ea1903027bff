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
//
// The modules here: server (HTTPS and routing), rest (the API), git-http-backend (git smart HTTP), git (local git),
// pull-requests (the state tests read), json (GitHub's JSON shapes), webhooks (events and their delivery).
import type { ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gitSync } from "./git";
import * as json from "./json";
import { PullRequests } from "./pull-requests";
import { close, createTlsServer, listen, route } from "./server";
import type { CommitStatus, GitHubStandInOptions, IssueComment, PullJson, PullSpec, RecordedRequest, RepoJson, Review, Role } from "./types";
import { issueCommentPayload, sendWebhook } from "./webhooks";

export type {
  ChangedFile,
  CommitStatus,
  Credential,
  GitHubStandInOptions,
  IssueComment,
  PullJson,
  PullSpec,
  RecordedRequest,
  RepoJson,
  Review,
  Role,
} from "./types";

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
  private readonly store = new PullRequests();
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
    const { server, caFile } = createTlsServer(join(this.dir, "pki"), (req, res) => void this.handle(req, res));
    this.ca = caFile;
    this.server = server;
    await listen(server);
  }

  async stop(): Promise<void> {
    for (const child of this.children) child.kill("SIGKILL");
    this.children.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await close(server);
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
    this.store.set(spec, this.defaultBranch);
  }

  closePull(n: number): void {
    this.store.close(n);
  }

  /** Adds an APPROVED review by login at the head branch's current tip. */
  approve(n: number, login: string, authorAssociation = "MEMBER"): Review {
    const review: Review = {
      user: { login },
      state: "APPROVED",
      commit_id: this.revParse(`refs/heads/${this.store.pull(n).headRef}`),
      author_association: authorAssociation,
      submitted_at: new Date().toISOString(),
    };
    (this.reviews[n] ??= []).push(review);
    return review;
  }

  /** The comments posted through the API on pull n, in order (webhook-made user comments are not among them). */
  comments(n: number): readonly IssueComment[] {
    return this.store.comments(n);
  }

  /** The statuses posted for sha, in order. */
  statuses(sha: string): readonly CommitStatus[] {
    return this.store.statuses(sha);
  }

  latestStatus(sha: string, context: string): CommitStatus | undefined {
    return this.store.latestStatus(sha, context);
  }

  /** Requests answered 404 (nothing emulated there). */
  notFound(): RecordedRequest[] {
    return this.requests.filter((r) => r.status === 404);
  }

  /**
   * The first comment on pull n at index >= since (default: after the one this method last returned for n) that
   * matches; polls every 100 ms until timeoutMs.
   */
  waitForComment(n: number, predicate: (c: IssueComment) => boolean, timeoutMs = 60_000, since?: number): Promise<IssueComment> {
    return this.store.waitForComment(n, predicate, timeoutMs, since);
  }

  // ---- webhooks ----

  repoJson(): RepoJson {
    return json.repoJson(this, this.defaultBranch);
  }

  /** The pull request as GET pulls/{n} answers it now (SHAs read from the bare repository). */
  pullJson(n: number): PullJson {
    const pull = this.store.pull(n);
    return json.pullJson(this, pull, this.revParse(`refs/heads/${pull.headRef}`), this.revParse(`refs/heads/${pull.baseRef}`));
  }

  /** A pull_request event; "closed" closes the pull request first, "reopened" reopens it. */
  pullRequestEvent(n: number, action: "opened" | "reopened" | "synchronize" | "closed" | "ready_for_review"): Record<string, unknown> {
    const pull = this.store.pull(n);
    if (action === "closed" && pull.state === "open") this.closePull(n);
    if (action === "reopened") Object.assign(pull, { state: "open", closedAt: null });
    return { action, number: n, pull_request: this.pullJson(n), repository: this.repoJson(), sender: { login: pull.author, type: "User" } };
  }

  /** An issue_comment "created" event: commenter commented body on pull n (the comment is not added to comments(n)). */
  issueCommentEvent(n: number, body: string, commenter: string): Record<string, unknown> {
    const pull = this.store.pull(n);
    return issueCommentPayload(this, pull, this.store.newId(), body, commenter);
  }

  /** POSTs payload to `${atlantisUrl}/events` as GitHub delivers a webhook (no signature). */
  sendWebhook(atlantisUrl: string, event: "pull_request" | "issue_comment", payload: unknown): Promise<{ status: number; body: string; ms: number }> {
    return sendWebhook(atlantisUrl, event, payload);
  }

  // ---- serving ----

  private handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    return route(this, this.store, this.children, req, res);
  }
}
