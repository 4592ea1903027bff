// The one HTTPS transport under every Vault call of the agent: VaultClient
// (sidecar, verifier, root commands) and SnapshotVault (snapshot and restore
// commands) both build on it. HTTPS only, the server verified against the
// given CA (there is no switch to skip that), an idle timeout on every
// request, and one error mapping: a call Vault refuses is a VaultError with
// the status and Vault's own error strings, never a request or response body
// that could hold a key or a token. `send` hands the response over unread, so
// a streamed body (a snapshot of hundreds of MB) never sits in memory; `json`
// reads the small answers of every other call.
import { Agent, request } from "node:https";
import type { ClientRequest, IncomingMessage } from "node:http";

/** Vault's own error strings from a response body (`errors`), trimmed, empty ones dropped. */
export function vaultErrors(body: Record<string, unknown>): string[] {
  return Array.isArray(body.errors) ? body.errors.map((e) => String(e).trim()).filter(Boolean) : [];
}

/** Vault answered, but not with what the call needs: "vault <operation>: HTTP <status>: <Vault's errors>". */
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

/** The server could not be reached at all (connection, TLS, timeout). */
export class VaultUnreachableError extends Error {
  constructor(address: string, cause: Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    super(`cannot reach vault at ${address}: ${code ? `${code} ` : ""}${cause.message}`);
    this.name = "VaultUnreachableError";
  }
}

export interface JsonResponse {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** A response body as a JSON object: {} when it is empty, not JSON, or not an object. */
export async function readJson(res: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  if (!text) return {};
  try {
    const parsed = JSON.parse(text) as unknown;
    return parsed && typeof parsed === "object" ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Statuses a call accepts: a list, or "2xx" for any success. */
export type OkStatuses = readonly number[] | "2xx";

/** The answer when its status is accepted; otherwise a VaultError naming `operation`. */
export function expectStatus(operation: string, res: JsonResponse, ok: OkStatuses): JsonResponse {
  const accepted = ok === "2xx" ? res.status >= 200 && res.status < 300 : ok.includes(res.status);
  if (!accepted) throw new VaultError(operation, res.status, vaultErrors(res.body));
  return res;
}

/**
 * How a request that got no answer (connection, TLS, idle timeout) fails, in
 * the two wordings the programs' logs and runbooks already use.
 */
const NO_ANSWER = {
  /** `vault GET sys/health: timed out after 5000 ms`: a plain Error naming the call (sidecar, verifier). */
  request: {
    idle: (ms: number): Error => new Error(`timed out after ${ms} ms`),
    wrap: (_address: string, method: string, path: string, cause: Error): Error => new Error(`vault ${method} ${path}: ${cause.message}`),
  },
  /** `cannot reach vault at https://…: ETIMEDOUT no data for 60000 ms`: a VaultUnreachableError naming the server (snapshot, restore). */
  server: {
    idle: (ms: number): Error => Object.assign(new Error(`no data for ${ms} ms`), { code: "ETIMEDOUT" }),
    wrap: (address: string, _method: string, _path: string, cause: Error): Error => new VaultUnreachableError(address, cause),
  },
} as const;

export interface VaultTransportOptions {
  readonly address: string;
  /** The CA to verify Vault with; the system CAs when omitted. */
  readonly ca?: string | Buffer;
  /** The name the server's certificate must hold, when it is not the address's host. */
  readonly servername?: string;
  /** Open connections at most. @default unlimited */
  readonly maxSockets?: number;
  /** A request fails when nothing was sent or received for this long (a call's timeoutMs overrides it). */
  readonly idleTimeoutMs: number;
  /** The wording of a request that got no answer (see NO_ANSWER). @default "request" */
  readonly noAnswer?: keyof typeof NO_ANSWER;
}

export interface CallOptions {
  readonly token?: string;
  /** Aborting fails the call with the abort error itself, not as unreachable. */
  readonly signal?: AbortSignal;
  /** Overrides the transport's idle timeout for this call. */
  readonly timeoutMs?: number;
}

export interface SendOptions extends CallOptions {
  readonly headers?: Readonly<Record<string, string | number>>;
  /** Writes the request body and ends the request; without it the request has no body. */
  readonly write?: (req: ClientRequest) => void;
}

export class VaultTransport {
  private agent: Agent;

  constructor(private readonly options: VaultTransportOptions) {
    if (!options.address.startsWith("https://")) throw new Error(`the Vault address must be https://, got ${options.address}`);
    this.agent = this.newAgent(options.ca);
  }

  private newAgent(ca: string | Buffer | undefined): Agent {
    return new Agent({ ca, keepAlive: true, maxSockets: this.options.maxSockets, servername: this.options.servername, rejectUnauthorized: true });
  }

  /**
   * Trusts a new CA bundle from the next request on (a CA rotation changes the mounted
   * ca.crt under a running process). Requests under way finish on their connection.
   */
  setCa(ca: string | Buffer): void {
    const old = this.agent;
    this.agent = this.newAgent(ca);
    // Its idle connections close once the calls still on it are long over.
    setTimeout(() => old.destroy(), 60_000).unref();
  }

  get address(): string {
    return this.options.address;
  }

  close(): void {
    this.agent.destroy();
  }

  /** Sends a request to /v1/<path> and resolves with the response head; the body is the caller's to read (or resume). */
  send(method: string, path: string, options: SendOptions = {}): Promise<IncomingMessage> {
    const url = new URL(`/v1/${path}`, this.options.address);
    const timeoutMs = options.timeoutMs ?? this.options.idleTimeoutMs;
    const noAnswer = NO_ANSWER[this.options.noAnswer ?? "request"];
    const headers = { ...(options.token ? { "X-Vault-Token": options.token } : {}), ...options.headers };
    return new Promise((resolve, reject) => {
      const req = request(url, { method, agent: this.agent, timeout: timeoutMs, signal: options.signal, headers }, resolve);
      req.on("timeout", () => req.destroy(noAnswer.idle(timeoutMs)));
      req.on("error", (error) => reject(options.signal?.aborted ? error : noAnswer.wrap(this.options.address, method, path, error)));
      if (options.write) options.write(req);
      else req.end();
    });
  }

  /** A call with an optional JSON body whose answer is read whole: any status, the body as a JSON object. */
  async json(method: string, path: string, options: CallOptions & { readonly body?: unknown } = {}): Promise<JsonResponse> {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string | number> = payload ? { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(payload) } : {};
    const res = await this.send(method, path, {
      token: options.token,
      signal: options.signal,
      timeoutMs: options.timeoutMs,
      headers,
      write: payload ? (req) => req.end(payload) : undefined,
    });
    return { status: res.statusCode ?? 0, body: await readJson(res) };
  }

  /** A JSON call that must answer with an accepted status; anything else throws VaultError ("vault <operation>: HTTP <status>: <errors>"). */
  async expect(
    operation: string,
    method: string,
    path: string,
    ok: OkStatuses,
    options: CallOptions & { readonly body?: unknown } = {},
  ): Promise<JsonResponse> {
    return expectStatus(operation, await this.json(method, path, options), ok);
  }
}
