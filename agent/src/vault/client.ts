// A small Vault HTTP API client: HTTPS only, the server verified against the
// given CA (there is no switch to skip that), a timeout on every request.
// Errors carry the status and Vault's own error strings, never a response body
// that could hold a key or a token.
import { Agent, request } from "node:https";

export type HealthKind = "active" | "standby" | "perf-standby" | "dr-secondary" | "uninitialized" | "sealed" | "unreachable" | "unexpected";

export interface Health {
  readonly kind: HealthKind;
  readonly status: number;
  readonly initialized?: boolean;
  readonly sealed?: boolean;
  readonly version?: string;
  readonly clusterName?: string;
  /** Why the server could not be asked (unreachable) or what it said (unexpected). */
  readonly detail?: string;
}

/** /v1/sys/health answers with a status code per state; anything else is reported as unexpected. */
export function healthKind(status: number): HealthKind {
  switch (status) {
    case 200:
      return "active";
    case 429:
      return "standby";
    case 472:
      return "dr-secondary";
    case 473:
      return "perf-standby";
    case 501:
      return "uninitialized";
    case 503:
      return "sealed";
    default:
      return "unexpected";
  }
}

/** Vault's own error strings from a response body (`errors`), trimmed, empty ones dropped. */
export function vaultErrors(body: Record<string, unknown>): string[] {
  return Array.isArray(body.errors) ? body.errors.map((e) => String(e).trim()).filter(Boolean) : [];
}

export class VaultError extends Error {
  constructor(
    readonly operation: string,
    readonly status: number,
    readonly vaultErrors: readonly string[],
  ) {
    super(`vault ${operation}: HTTP ${status}${vaultErrors.length ? `: ${vaultErrors.join("; ")}` : ""}`);
    this.name = "VaultError";
  }
}

export interface InitResponse {
  readonly keys?: string[];
  readonly keys_base64?: string[];
  readonly recovery_keys?: string[];
  readonly recovery_keys_base64?: string[];
  readonly root_token: string;
}

export interface TokenInfo {
  readonly policies: string[];
  readonly ttl: number;
  readonly period?: number;
  readonly accessor: string;
  readonly orphan?: boolean;
}

interface Raw {
  status: number;
  body: Record<string, unknown>;
}

export interface VaultClientOptions {
  readonly address: string;
  /** The CA to verify Vault with; the system CAs when omitted. */
  readonly ca?: string | Buffer;
  readonly servername?: string;
  /** @default 10000 */
  readonly timeoutMs?: number;
}

export class VaultClient {
  private readonly agent: Agent;
  private readonly timeoutMs: number;

  constructor(private readonly options: VaultClientOptions) {
    if (!options.address.startsWith("https://")) throw new Error(`the Vault address must be https://, got ${options.address}`);
    this.agent = new Agent({ ca: options.ca, keepAlive: true, maxSockets: 4, servername: options.servername, rejectUnauthorized: true });
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  close(): void {
    this.agent.destroy();
  }

  private call(method: string, path: string, opts: { token?: string; body?: unknown; timeoutMs?: number } = {}): Promise<Raw> {
    const url = new URL(`/v1/${path}`, this.options.address);
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          agent: this.agent,
          timeout: opts.timeoutMs ?? this.timeoutMs,
          headers: {
            ...(opts.token ? { "X-Vault-Token": opts.token } : {}),
            ...(payload ? { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(payload) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", reject);
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let body: Record<string, unknown> = {};
            if (text) {
              try {
                body = JSON.parse(text) as Record<string, unknown>;
              } catch {
                body = {};
              }
            }
            resolve({ status: res.statusCode ?? 0, body });
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error(`timed out after ${opts.timeoutMs ?? this.timeoutMs} ms`)));
      req.on("error", (e) => reject(new Error(`vault ${method} ${path}: ${e.message}`)));
      if (payload) req.write(payload);
      req.end();
    });
  }

  private async ok(operation: string, method: string, path: string, opts: { token?: string; body?: unknown; timeoutMs?: number } = {}): Promise<Record<string, unknown>> {
    const res = await this.call(method, path, opts);
    if (res.status < 200 || res.status >= 300) {
      const errors = Array.isArray(res.body.errors) ? (res.body.errors as unknown[]).map(String) : [];
      throw new VaultError(operation, res.status, errors);
    }
    return res.body;
  }

  async health(): Promise<Health> {
    let res: Raw;
    try {
      res = await this.call("GET", "sys/health", { timeoutMs: Math.min(this.timeoutMs, 5000) });
    } catch (error) {
      return { kind: "unreachable", status: 0, detail: (error as Error).message };
    }
    const kind = healthKind(res.status);
    return {
      kind,
      status: res.status,
      initialized: res.body.initialized as boolean | undefined,
      sealed: res.body.sealed as boolean | undefined,
      version: res.body.version as string | undefined,
      clusterName: res.body.cluster_name as string | undefined,
      detail: kind === "unexpected" ? `HTTP ${res.status}` : undefined,
    };
  }

  async leader(): Promise<{ haEnabled: boolean; isSelf: boolean; leaderAddress: string; raftCommittedIndex?: number; raftAppliedIndex?: number }> {
    const b = await this.ok("read leader", "GET", "sys/leader");
    return {
      haEnabled: Boolean(b.ha_enabled),
      isSelf: Boolean(b.is_self),
      leaderAddress: String(b.leader_address ?? ""),
      raftCommittedIndex: b.raft_committed_index as number | undefined,
      raftAppliedIndex: b.raft_applied_index as number | undefined,
    };
  }

  /** The Raft peers (needs a token that may read sys/storage/raft/configuration). */
  async raftPeers(token: string): Promise<{ id: string; voter: boolean; leader: boolean }[]> {
    const b = await this.ok("read raft configuration", "GET", "sys/storage/raft/configuration", { token });
    const servers = ((b.data as { config?: { servers?: { node_id: string; voter: boolean; leader: boolean }[] } })?.config?.servers ?? []);
    return servers.map((s) => ({ id: s.node_id, voter: Boolean(s.voter), leader: Boolean(s.leader) }));
  }

  async sealStatus(): Promise<{ sealed: boolean; initialized: boolean; type: string; threshold: number; progress: number }> {
    const b = await this.ok("read seal status", "GET", "sys/seal-status");
    return { sealed: Boolean(b.sealed), initialized: Boolean(b.initialized), type: String(b.type), threshold: Number(b.t), progress: Number(b.progress) };
  }

  async init(request: { secret_shares?: number; secret_threshold?: number; recovery_shares?: number; recovery_threshold?: number }): Promise<InitResponse> {
    const b = await this.ok("init", "PUT", "sys/init", { body: request, timeoutMs: 120_000 });
    if (typeof b.root_token !== "string") throw new VaultError("init", 200, ["response has no root token"]);
    return b as unknown as InitResponse;
  }

  async unseal(key: string): Promise<{ sealed: boolean; progress: number }> {
    const b = await this.ok("unseal", "PUT", "sys/unseal", { body: { key }, timeoutMs: 60_000 });
    return { sealed: Boolean(b.sealed), progress: Number(b.progress ?? 0) };
  }

  /** The token's details, or undefined when Vault says it is not valid (403). */
  async lookupSelf(token: string): Promise<TokenInfo | undefined> {
    const res = await this.call("GET", "auth/token/lookup-self", { token });
    if (res.status === 403) return undefined;
    if (res.status !== 200) throw new VaultError("token lookup-self", res.status, []);
    const d = res.body.data as Record<string, unknown>;
    return { policies: (d.policies as string[]) ?? [], ttl: Number(d.ttl ?? 0), period: d.period as number | undefined, accessor: String(d.accessor), orphan: d.orphan as boolean | undefined };
  }

  async renewSelf(token: string): Promise<number> {
    const b = await this.ok("token renew-self", "PUT", "auth/token/renew-self", { token, body: {} });
    return Number((b.auth as Record<string, unknown>)?.lease_duration ?? 0);
  }

  async revokeSelf(token: string): Promise<void> {
    await this.ok("token revoke-self", "PUT", "auth/token/revoke-self", { token, body: {} });
  }

  /** An orphan periodic token with exactly `policies` (no default policy: its own policy grants what it needs of its token). */
  async createOrphanToken(token: string, opts: { policies: string[]; periodSec: number; displayName: string }): Promise<{ token: string; accessor: string }> {
    const b = await this.ok("token create-orphan", "PUT", "auth/token/create-orphan", {
      token,
      body: { policies: opts.policies, period: `${opts.periodSec}s`, display_name: opts.displayName, no_default_policy: true, renewable: true },
    });
    const auth = b.auth as Record<string, unknown>;
    return { token: String(auth.client_token), accessor: String(auth.accessor) };
  }

  async writePolicy(token: string, name: string, policy: string): Promise<void> {
    await this.ok(`write policy ${name}`, "PUT", `sys/policies/acl/${encodeURIComponent(name)}`, { token, body: { policy } });
  }

  async deletePolicy(token: string, name: string): Promise<void> {
    await this.ok(`delete policy ${name}`, "DELETE", `sys/policies/acl/${encodeURIComponent(name)}`, { token });
  }

  /** The keys under a path (LIST), or none when Vault has nothing there (404). */
  async list(token: string, path: string): Promise<string[]> {
    const res = await this.call("LIST", path, { token });
    if (res.status === 404) return [];
    if (res.status !== 200) throw new VaultError(`list ${path}`, res.status, Array.isArray(res.body.errors) ? (res.body.errors as unknown[]).map(String) : []);
    return ((res.body.data as { keys?: string[] } | undefined)?.keys ?? []).map(String);
  }

  /** The data at a path (GET), or undefined when there is none (404). */
  async read(token: string, path: string): Promise<Record<string, unknown> | undefined> {
    const res = await this.call("GET", path, { token });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new VaultError(`read ${path}`, res.status, Array.isArray(res.body.errors) ? (res.body.errors as unknown[]).map(String) : []);
    return (res.body.data as Record<string, unknown> | undefined) ?? {};
  }

  /** Revokes a token by its accessor (needs a token allowed to). */
  async revokeAccessor(token: string, accessor: string): Promise<void> {
    await this.ok("token revoke-accessor", "PUT", "auth/token/revoke-accessor", { token, body: { accessor } });
  }

  async listAuditDevices(token: string): Promise<Record<string, { type: string }>> {
    const b = await this.ok("list audit devices", "GET", "sys/audit", { token });
    const data = (b.data as Record<string, { type: string }>) ?? {};
    return Object.fromEntries(Object.entries(data).filter(([, v]) => v && typeof v === "object" && "type" in v));
  }

  async enableFileAudit(token: string, path: string, filePath: string): Promise<void> {
    await this.ok(`enable audit device ${path}`, "PUT", `sys/audit/${encodeURIComponent(path)}`, {
      token,
      body: { type: "file", description: "enabled by the vault-gke bootstrap sidecar", options: { file_path: filePath, mode: "0600" } },
    });
  }

  /**
   * Root generation endpoints: OpenBao's authenticated sys/generate-root-token
   * (it turned the unauthenticated ones off in 2.5.3) when a token is given and
   * the server has them, else the classic unauthenticated sys/generate-root.
   */
  async generateRootEndpoint(token?: string): Promise<{ path: string; token?: string }> {
    if (token) {
      const res = await this.call("GET", "sys/generate-root-token/attempt", { token });
      if (res.status === 200) return { path: "sys/generate-root-token", token };
      if (res.status !== 404 && res.status !== 405) throw new VaultError("generate-root-token status", res.status, []);
    }
    return { path: "sys/generate-root" };
  }

  async generateRootStatus(ep: { path: string; token?: string }): Promise<{ started: boolean }> {
    const b = await this.ok("generate-root status", "GET", `${ep.path}/attempt`, { token: ep.token });
    const d = (b.data as Record<string, unknown>) ?? b;
    return { started: Boolean(d.started) };
  }

  async generateRootStart(ep: { path: string; token?: string }): Promise<{ nonce: string; otp: string }> {
    const b = await this.ok("generate-root start", "PUT", `${ep.path}/attempt`, { token: ep.token, body: {} });
    const d = (b.data as Record<string, unknown>) ?? b;
    return { nonce: String(d.nonce), otp: String(d.otp) };
  }

  async generateRootCancel(ep: { path: string; token?: string }): Promise<void> {
    await this.ok("generate-root cancel", "DELETE", `${ep.path}/attempt`, { token: ep.token });
  }

  async generateRootUpdate(ep: { path: string; token?: string }, nonce: string, key: string): Promise<{ complete: boolean; encodedToken: string }> {
    const b = await this.ok("generate-root update", "PUT", `${ep.path}/update`, { token: ep.token, body: { nonce, key } });
    const d = (b.data as Record<string, unknown>) ?? b;
    return { complete: Boolean(d.complete), encodedToken: String(d.encoded_token ?? d.encoded_root_token ?? "") };
  }
}
