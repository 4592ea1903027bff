// A stand-in for the GitHub REST API calls the Atlantis hook makes:
//   GET /repos/{owner}/{repo}/pulls/{number}/reviews?per_page=N&page=P
//   GET /repos/{owner}/{repo}/collaborators/{username}/permission
// on loopback, answering the reviews a test sets (paged as GitHub pages them,
// 1-based, per_page at most 100) and each user's permission (404 for a user
// who is no collaborator), 401 without the expected bearer token, and
// a chosen HTTP status when a test wants the API to fail. It records each
// request. Not emulated: other endpoints, rate limits, Link headers (the hook
// pages by count), GitHub's own validation of review states.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Review {
  readonly user: { readonly login: string };
  readonly state: "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED" | "PENDING";
  readonly commit_id: string;
  readonly author_association: string;
  readonly submitted_at?: string;
}

export class GitHubApiStandIn {
  private server?: Server;
  reviews: Review[] = [];
  /** Each user's permission on the repository, as GitHub reports it (maintain reads as write, triage as read). */
  permissions: Record<string, "admin" | "write" | "read" | "none"> = {};
  /** When set, every permission request gets this status and an error body. */
  permissionFailWith?: number;
  /** When set, every request gets this status and an error body. */
  failWith?: number;
  readonly requests: { url: string; authorization?: string }[] = [];

  constructor(
    readonly owner: string,
    readonly repo: string,
    readonly pull: number,
    readonly token: string,
  ) {}

  get url(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) throw new Error("the GitHub API stand-in is not listening");
    return `http://127.0.0.1:${address.port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://stand-in");
      this.requests.push({ url: url.pathname + url.search, authorization: req.headers.authorization });
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { "Content-Type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (this.failWith) return send(this.failWith, { message: "stand-in failure" });
      if (req.headers.authorization !== `Bearer ${this.token}`) return send(401, { message: "Bad credentials" });
      const permission = new RegExp(`^/repos/${this.owner}/${this.repo}/collaborators/([^/]+)/permission$`).exec(url.pathname);
      if (req.method === "GET" && permission) {
        if (this.permissionFailWith) return send(this.permissionFailWith, { message: "stand-in failure" });
        const login = decodeURIComponent(permission[1]);
        const level = this.permissions[login];
        if (!level) return send(404, { message: "Not Found" });
        return send(200, { permission: level, role_name: level, user: { login } });
      }
      if (req.method !== "GET" || url.pathname !== `/repos/${this.owner}/${this.repo}/pulls/${this.pull}/reviews`) return send(404, { message: "Not Found" });
      const perPage = Math.min(Number(url.searchParams.get("per_page") ?? 30), 100);
      const page = Number(url.searchParams.get("page") ?? 1);
      send(200, this.reviews.slice((page - 1) * perPage, page * perPage));
    });
    // Port 0: the kernel picks a free loopback port.
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
