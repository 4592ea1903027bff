// The Vault HTTP API client of the sidecar, the verifier and the root
// commands: typed calls over the agent's one transport (transport.ts: HTTPS
// only, the server verified against the given CA, a timeout on every request,
// VaultError with the status and Vault's own error strings, never a response
// body that could hold a key or a token). Every answer here is small and read
// whole; the snapshot's streamed calls are SnapshotVault's (snapshot-api.ts).
import { VaultError, VaultTransport, vaultErrors, type CallOptions, type JsonResponse } from "./transport";

export { VaultError, vaultErrors } from "./transport";

export type HealthKind = "active" | "standby" | "perf-standby" | "dr-secondary" | "uninitialized" | "sealed" | "removed" | "unreachable" | "unexpected";

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
    // HashiCorp Vault 1.19 and later: this server was removed from the Raft cluster; it stays sealed and refuses to rejoin with its data.
    case 530:
      return "removed";
    default:
      return "unexpected";
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

type Call = CallOptions & { readonly body?: unknown };

export interface VaultClientOptions {
  readonly address: string;
  /** The CA to verify Vault with; the system CAs when omitted. */
  readonly ca?: string | Buffer;
  readonly servername?: string;
  /** @default 10000 */
  readonly timeoutMs?: number;
}

export class VaultClient {
  private readonly http: VaultTransport;
  private readonly timeoutMs: number;

  constructor(options: VaultClientOptions) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.http = new VaultTransport({ address: options.address, ca: options.ca, servername: options.servername, maxSockets: 4, idleTimeoutMs: this.timeoutMs });
  }

  close(): void {
    this.http.close();
  }

  /** The active server gives up leadership (PUT sys/step-down: a token with sudo on it, such as an admin's). */
  async stepDown(token: string): Promise<void> {
    await this.ok("step-down", "PUT", "sys/step-down", { token, timeoutMs: Math.max(this.timeoutMs, 10_000) });
  }

  /** Verifies Vault against this CA bundle from the next call on. */
  setCa(ca: string | Buffer): void {
    this.http.setCa(ca);
  }

  private call(method: string, path: string, opts: Call = {}): Promise<JsonResponse> {
    return this.http.json(method, path, opts);
  }

  /** A call that must succeed (2xx); its body. */
  private async ok(operation: string, method: string, path: string, opts: Call = {}): Promise<Record<string, unknown>> {
    return (await this.http.expect(operation, method, path, "2xx", opts)).body;
  }

  async health(): Promise<Health> {
    let res: JsonResponse;
    try {
      res = await this.call("GET", "sys/health", { timeoutMs: Math.min(this.timeoutMs, 5000) });
    } catch (error) {
      return { kind: "unreachable", status: 0, detail: (error as Error).message };
    }
    const kind = res.body.removed_from_cluster === true ? "removed" : healthKind(res.status);
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
    const servers = (b.data as { config?: { servers?: { node_id: string; voter: boolean; leader: boolean }[] } })?.config?.servers ?? [];
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
    return {
      policies: (d.policies as string[]) ?? [],
      ttl: Number(d.ttl ?? 0),
      period: d.period as number | undefined,
      accessor: String(d.accessor),
      orphan: d.orphan as boolean | undefined,
    };
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
    if (res.status !== 200) throw new VaultError(`list ${path}`, res.status, vaultErrors(res.body));
    return ((res.body.data as { keys?: string[] } | undefined)?.keys ?? []).map(String);
  }

  /** The data at a path (GET), or undefined when there is none (404). */
  async read(token: string, path: string): Promise<Record<string, unknown> | undefined> {
    const res = await this.call("GET", path, { token });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new VaultError(`read ${path}`, res.status, vaultErrors(res.body));
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
