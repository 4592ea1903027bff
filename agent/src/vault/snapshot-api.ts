// The Vault HTTP calls of the snapshot and restore commands: HTTPS only, the
// server verified against the given CA, and streaming in both directions for
// the snapshot itself (the sidecar's client buffers every body, which a
// snapshot of hundreds of MB must not be). Errors are the sidecar client's
// VaultError: the status and Vault's own error strings, never a request or
// response body that could hold a token.
import { createReadStream } from "node:fs";
import { Agent, request, type RequestOptions } from "node:https";
import type { IncomingMessage } from "node:http";
import { VaultError, vaultErrors } from "./client";

/** Nothing received or sent for this long fails the request (a snapshot streams continuously). */
const IDLE_TIMEOUT_MS = 60_000;

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

async function readJson(res: IncomingMessage): Promise<Record<string, unknown>> {
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

export interface SnapshotVaultOptions {
  readonly address: string;
  readonly ca: Buffer;
  /** @default 60000 */
  readonly idleTimeoutMs?: number;
}

export class SnapshotVault {
  private readonly agent: Agent;
  private readonly idleTimeoutMs: number;

  constructor(private readonly options: SnapshotVaultOptions) {
    if (!options.address.startsWith("https://")) throw new Error(`the Vault address must be https://, got ${options.address}`);
    this.agent = new Agent({ ca: options.ca, keepAlive: true, rejectUnauthorized: true });
    this.idleTimeoutMs = options.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
  }

  get address(): string {
    return this.options.address;
  }

  close(): void {
    this.agent.destroy();
  }

  /** Sends a request and resolves with the response head; the body is the caller's to read. */
  private send(method: string, path: string, token: string | undefined, headers: Record<string, string | number>, body: ((req: ReturnType<typeof request>) => void) | undefined, signal?: AbortSignal, timeoutMs = this.idleTimeoutMs): Promise<IncomingMessage> {
    const url = new URL(`/v1/${path}`, this.options.address);
    const options: RequestOptions = {
      method,
      agent: this.agent,
      timeout: timeoutMs,
      signal,
      headers: { ...(token ? { "X-Vault-Token": token } : {}), ...headers },
    };
    return new Promise((resolve, reject) => {
      const req = request(url, options, resolve);
      req.on("timeout", () => req.destroy(Object.assign(new Error(`no data for ${timeoutMs} ms`), { code: "ETIMEDOUT" })));
      req.on("error", (error) => reject(signal?.aborted ? error : new VaultUnreachableError(this.options.address, error)));
      if (body) body(req);
      else req.end();
    });
  }

  async json(method: string, path: string, options: { token?: string; body?: unknown; signal?: AbortSignal; timeoutMs?: number } = {}): Promise<JsonResponse> {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string | number> = payload ? { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(payload) } : {};
    const res = await this.send(method, path, options.token, headers, payload ? (req) => req.end(payload) : undefined, options.signal, options.timeoutMs);
    return { status: res.statusCode ?? 0, body: await readJson(res) };
  }

  /** A JSON call that must answer with one of `ok`; anything else throws VaultError ("vault <operation>: HTTP <status>: <errors>"). */
  async expect(operation: string, method: string, path: string, ok: readonly number[], options: { token?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<JsonResponse> {
    const res = await this.json(method, path, options);
    if (!ok.includes(res.status)) throw new VaultError(operation, res.status, vaultErrors(res.body));
    return res;
  }

  /** GET with a streamed body: resolves with the open response once Vault answers 200. */
  async download(operation: string, path: string, token: string, signal?: AbortSignal): Promise<IncomingMessage> {
    const res = await this.send("GET", path, token, {}, undefined, signal);
    if (res.statusCode === 307) {
      res.resume();
      throw new VaultError(operation, 307, [`a standby redirected to the active server; point VAULT_ADDR at the active server (the vault-active service)`]);
    }
    if (res.statusCode !== 200) throw new VaultError(operation, res.statusCode ?? 0, vaultErrors(await readJson(res)));
    res.on("error", () => undefined); // the consumer's pipeline reports it
    return res;
  }

  /** POST a file as the request body, streamed from disk. */
  async upload(operation: string, path: string, token: string, file: string, bytes: number, ok: readonly number[], signal?: AbortSignal): Promise<JsonResponse> {
    const res = await this.send("POST", path, token, { "Content-Type": "application/octet-stream", "Content-Length": bytes }, (req) => {
      const source = createReadStream(file);
      source.on("error", (error) => req.destroy(error));
      source.pipe(req);
    }, signal);
    const body = await readJson(res);
    if (!ok.includes(res.statusCode ?? 0)) throw new VaultError(operation, res.statusCode ?? 0, vaultErrors(body));
    return { status: res.statusCode ?? 0, body };
  }
}
