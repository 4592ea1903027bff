// A local stand-in for Google Secret Manager's REST API (v1) and the GKE
// metadata server, so the sidecar's real client code (google-auth-library and
// its REST calls) runs unchanged against loopback in tests.
//
// It implements only what the sidecar uses: the metadata server's instance
// ping, project id and default service account token (as Workload Identity
// serves them on GKE), and secrets.addVersion, versions/latest:access and
// :testIamPermissions, with bearer-token checks and Google-shaped error bodies.
// Faults are injected per secret: failing writes and reads (503), writes that never get
// an answer, a missing grant (403 on reads and writes, permissions withheld by
// testIamPermissions), a missing secret (404), garbage versions.
// It does NOT emulate: real IAM policies (one caller; a grant is on or off per
// secret), CRC32C payload checksums, version states (disable, destroy),
// replication, ETags, quotas and rate limits, the gRPC API, or any other method.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { randomBytes } from "node:crypto";

interface Version {
  readonly data: Buffer;
  readonly createTime: string;
}

export class SecretManagerStandIn {
  private server?: Server;
  private readonly secrets = new Map<string, Version[]>();
  private readonly failures = new Map<string, number>();
  private readonly holds = new Map<string, boolean>();
  private readonly hangs = new Set<string>();
  private readonly heldReads = new Set<string>();
  private readonly readCounts = new Map<string, number>();
  /** addVersion calls left unanswered by hangWrites (their connections close with stop()). */
  hungWrites = 0;
  /** Secrets on which the caller has no grant (403 on access and addVersion). */
  private readonly denied = new Set<string>();
  readonly accessToken = `ya29.stand-in-${randomBytes(12).toString("hex")}`;
  port = 0;
  requests = 0;

  constructor(readonly project: string) {}

  /** Creates empty secrets, as the platform stack does. */
  createSecrets(...ids: string[]): void {
    for (const id of ids) if (!this.secrets.has(id)) this.secrets.set(id, []);
  }

  versions(id: string): Buffer[] {
    return (this.secrets.get(id) ?? []).map((v) => v.data);
  }

  latest(id: string): Buffer | undefined {
    return this.secrets.get(id)?.at(-1)?.data;
  }

  /** Removes the secret itself (404 on everything). */
  deleteSecret(id: string): void {
    this.secrets.delete(id);
  }

  /** Takes the caller's grant on `id` away (or gives it back). */
  deny(id: string, denied: boolean): void {
    if (denied) this.denied.add(id);
    else this.denied.delete(id);
  }

  /** Adds a version holding `bytes`, as someone else might (garbage, or a hand-written record). */
  putVersion(id: string, bytes: Buffer | string): void {
    this.secrets.get(id)?.push({ data: Buffer.from(bytes), createTime: new Date().toISOString() });
  }

  /** Drops every version (as if they had been destroyed). */
  destroyVersions(id: string): void {
    if (this.secrets.has(id)) this.secrets.set(id, []);
  }

  /** The next `count` addVersion calls on `id` fail with 503 UNAVAILABLE. */
  failNextWrites(id: string, count: number): void {
    this.failures.set(id, count);
  }

  /** While held, every addVersion on `id` fails with 503 UNAVAILABLE. */
  holdWrites(id: string, held: boolean): void {
    this.holds.set(id, held);
  }

  /** While held, every versions/latest:access on `id` fails with 503 UNAVAILABLE (the store's blip on a read). */
  holdReads(id: string, held: boolean): void {
    if (held) this.heldReads.add(id);
    else this.heldReads.delete(id);
  }

  /** How many times versions/latest:access was asked for `id`. */
  reads(id: string): number {
    return this.readCounts.get(id) ?? 0;
  }

  /** While hung, every addVersion on `id` is read and never answered, like a store that stopped responding mid-call. */
  hangWrites(id: string, hung: boolean): void {
    if (hung) this.hangs.add(id);
    else this.hangs.delete(id);
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** For GCE_METADATA_HOST. */
  get metadataHost(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.requests++;
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => this.handle(req, res, Buffer.concat(chunks)));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    const address = this.server.address();
    this.port = typeof address === "object" && address ? address.port : 0;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.server = undefined;
  }

  private json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { "Content-Type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  }

  private error(res: ServerResponse, code: number, status: string, message: string): void {
    this.json(res, code, { error: { code, status, message } });
  }

  private handle(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const url = new URL(req.url ?? "/", "http://stand-in");
    const path = url.pathname;
    if (path.startsWith("/computeMetadata/v1")) return this.metadata(req, res, path);

    if (req.headers.authorization !== `Bearer ${this.accessToken}`) {
      return this.error(res, 401, "UNAUTHENTICATED", "Request had invalid authentication credentials.");
    }
    const m = /^\/v1\/projects\/([^/]+)\/secrets\/([^/:]+)(:addVersion|\/versions\/latest:access|:testIamPermissions)$/.exec(path);
    if (!m || decodeURIComponent(m[1]) !== this.project) return this.error(res, 404, "NOT_FOUND", `Unknown path ${path}`);
    const id = decodeURIComponent(m[2]);
    const name = `projects/${this.project}/secrets/${id}`;
    const versions = this.secrets.get(id);

    if (m[3] === ":testIamPermissions" && req.method === "POST") {
      if (!versions) return this.error(res, 404, "NOT_FOUND", `Secret [${name}] not found.`);
      let asked: string[] = [];
      try {
        asked = (JSON.parse(body.toString("utf8")) as { permissions?: string[] }).permissions ?? [];
      } catch {
        return this.error(res, 400, "INVALID_ARGUMENT", "permissions is required");
      }
      return this.json(res, 200, this.denied.has(id) ? {} : { permissions: asked });
    }
    if (versions && this.denied.has(id)) {
      return this.error(
        res,
        403,
        "PERMISSION_DENIED",
        `Permission '${m[3] === ":addVersion" ? "secretmanager.versions.add" : "secretmanager.versions.access"}' denied for resource '${name}/versions/latest' (or it may not exist).`,
      );
    }
    if (m[3] === ":addVersion" && req.method === "POST") {
      if (!versions) return this.error(res, 404, "NOT_FOUND", `Secret [${name}] not found.`);
      if (this.hangs.has(id)) return void this.hungWrites++;
      const left = this.failures.get(id) ?? 0;
      if (left > 0 || this.holds.get(id)) {
        if (left > 0) this.failures.set(id, left - 1);
        return this.error(res, 503, "UNAVAILABLE", "The service is currently unavailable.");
      }
      let data: string | undefined;
      try {
        data = (JSON.parse(body.toString("utf8")) as { payload?: { data?: string } }).payload?.data;
      } catch {
        data = undefined;
      }
      if (typeof data !== "string") return this.error(res, 400, "INVALID_ARGUMENT", "payload.data is required");
      const version: Version = { data: Buffer.from(data, "base64"), createTime: new Date().toISOString() };
      versions.push(version);
      return this.json(res, 200, { name: `${name}/versions/${versions.length}`, createTime: version.createTime, state: "ENABLED" });
    }
    if (m[3] === "/versions/latest:access" && req.method === "GET") {
      this.readCounts.set(id, this.reads(id) + 1);
      if (this.heldReads.has(id)) return this.error(res, 503, "UNAVAILABLE", "The service is currently unavailable.");
      const latest = versions?.at(-1);
      if (!latest) return this.error(res, 404, "NOT_FOUND", `Secret [${name}] not found or has no versions.`);
      return this.json(res, 200, { name: `${name}/versions/${versions?.length}`, payload: { data: latest.data.toString("base64") } });
    }
    return this.error(res, 405, "INVALID_ARGUMENT", `method ${req.method} not supported on ${path}`);
  }

  private metadata(req: IncomingMessage, res: ServerResponse, path: string): void {
    const flavor = { "Metadata-Flavor": "Google" };
    if (req.headers["metadata-flavor"] !== "Google") {
      res.writeHead(403, flavor);
      return void res.end("Missing Metadata-Flavor:Google header.");
    }
    if (path === "/computeMetadata/v1/instance" || path === "/computeMetadata/v1/instance/") {
      res.writeHead(200, { ...flavor, "Content-Type": "application/text" });
      return void res.end("attributes/\nservice-accounts/\n");
    }
    if (path === "/computeMetadata/v1/project/project-id") {
      res.writeHead(200, { ...flavor, "Content-Type": "application/text" });
      return void res.end(this.project);
    }
    if (path === "/computeMetadata/v1/instance/service-accounts/default/token") {
      return this.json(res, 200, { access_token: this.accessToken, expires_in: 3599, token_type: "Bearer" }, flavor);
    }
    res.writeHead(404, flavor);
    res.end("not found");
  }
}
