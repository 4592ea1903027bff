// The Vault HTTP calls of the snapshot and restore commands, on the agent's
// one transport (transport.ts: HTTPS only, the CA, the idle timeout, VaultError
// and VaultUnreachableError). What is theirs: a longer idle timeout, failures
// worded as "cannot reach vault at <address>", and the snapshot itself
// streamed in both directions, never held in memory.
import { createReadStream } from "node:fs";
import type { IncomingMessage } from "node:http";
import { expectStatus, readJson, VaultError, VaultTransport, vaultErrors, type JsonResponse } from "./transport";

export { VaultUnreachableError, type JsonResponse } from "./transport";

/** Nothing received or sent for this long fails the request (a snapshot streams continuously). */
const IDLE_TIMEOUT_MS = 60_000;

export interface SnapshotVaultOptions {
  readonly address: string;
  readonly ca: Buffer;
  /** @default 60000 */
  readonly idleTimeoutMs?: number;
}

/** The transport's `address`, `close`, `json` and `expect`, plus the snapshot's streamed download and upload. */
export class SnapshotVault extends VaultTransport {
  constructor(options: SnapshotVaultOptions) {
    super({ address: options.address, ca: options.ca, idleTimeoutMs: options.idleTimeoutMs ?? IDLE_TIMEOUT_MS, noAnswer: "server" });
  }

  /** GET with a streamed body: resolves with the open response once Vault answers 200. */
  async download(operation: string, path: string, token: string, signal?: AbortSignal): Promise<IncomingMessage> {
    const res = await this.send("GET", path, { token, signal });
    if (res.statusCode === 307) {
      res.resume();
      throw new VaultError(operation, 307, [`a standby redirected to the active server; point VAULT_ADDR at the active server (the vault-active service)`]);
    }
    if (res.statusCode !== 200) throw new VaultError(operation, res.statusCode ?? 0, vaultErrors(await readJson(res)));
    res.on("error", () => undefined); // the consumer's pipeline reports it
    return res;
  }

  /** POST a file as the request body, streamed from disk. */
  async upload(
    operation: string,
    path: string,
    token: string,
    file: string,
    bytes: number,
    ok: readonly number[],
    signal?: AbortSignal,
  ): Promise<JsonResponse> {
    const headers = { "Content-Type": "application/octet-stream", "Content-Length": bytes };
    const res = await this.send("POST", path, {
      token,
      signal,
      headers,
      write: (req) => {
        const source = createReadStream(file);
        source.on("error", (error) => req.destroy(error));
        source.pipe(req);
      },
    });
    return expectStatus(operation, { status: res.statusCode ?? 0, body: await readJson(res) }, ok);
  }
}
