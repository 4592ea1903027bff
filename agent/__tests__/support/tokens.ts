// Looks for tokens the sidecar made that are still valid but not stored in
// their record: the invariant "no unstored valid token is left behind". It
// brings a root token back from the stored keys (as an operator would), lists
// every accessor, and compares the sidecar's tokens (by display name) with the
// accessors the records hold.
import { generateRoot } from "../../src/vault/generate-root";
import { VaultClient } from "../../src/vault/client";
import { VaultError } from "../../src/vault/transport";
import { vaultRequest, waitFor } from "../../../__tests__/support/vault-http";
import type { World } from "./fixture";

const NAMES = ["token-vault-gke-plan", "token-vault-gke-sidecar", "token-vault-gke-generate-root"];

function record(world: World, id: string): Record<string, string> | undefined {
  try {
    return JSON.parse(String(world.store.latest(id))) as Record<string, string>;
  } catch {
    return undefined;
  }
}

/**
 * A short-lived root from the stored keys, as an operator would make one. The sidecar may be generating a root at
 * the same moment (each cancels an attempt it finds, and the other's next key share then meets a new nonce): such a
 * collision is tried again, which of the two wins is not the test's business.
 */
async function rootFromStoredKeys(world: World, client: VaultClient): Promise<string> {
  const init = record(world, world.ids.initResponse) as unknown as { response: { keys_base64: string[] } };
  return waitFor(
    "a root token from the stored keys (the sidecar may be generating one too)",
    async () => {
      try {
        return await generateRoot(client, init.response.keys_base64, 3, record(world, world.ids.rootToken)?.generateRootToken);
      } catch (error) {
        if (error instanceof VaultError && /nonce|in progress|no root generation in progress/i.test(error.message)) return undefined;
        throw error;
      }
    },
    120_000,
    250,
  );
}

/** Revokes a token by its accessor with a short-lived root (the sidecar's tokens cannot revoke themselves). */
export async function revokeByAccessor(world: World, accessor: string): Promise<void> {
  const server = world.cluster.servers[0];
  const client = new VaultClient({ address: server.addr, ca: server.ca });
  const token = await rootFromStoredKeys(world, client);
  try {
    await client.revokeAccessor(token, accessor);
  } finally {
    await client.revokeSelf(token);
    client.close();
  }
}

/** Display names of valid sidecar tokens that no record holds; `expectedOrphans` tolerated (a token made right before a crash). */
export async function unstoredValidTokens(world: World, expectedOrphans = 0): Promise<string[]> {
  const server = world.cluster.servers[0];
  const root = record(world, world.ids.rootToken);
  const client = new VaultClient({ address: server.addr, ca: server.ca });
  const token = await rootFromStoredKeys(world, client);
  try {
    const stored = new Set([record(world, world.ids.planToken)?.accessor, record(world, world.ids.sidecarToken)?.accessor, root?.generateRootAccessor]);
    const listed = await vaultRequest(server.addr, server.ca, "LIST", "/v1/auth/token/accessors", { token });
    const accessors = ((listed.body.data as { keys?: string[] })?.keys ?? []) as string[];
    const orphans: string[] = [];
    for (const accessor of accessors) {
      const info = await vaultRequest(server.addr, server.ca, "POST", "/v1/auth/token/lookup-accessor", { token, body: { accessor } });
      const name = String((info.body.data as { display_name?: string })?.display_name ?? "");
      if (NAMES.includes(name) && !stored.has(accessor)) orphans.push(name);
    }
    return orphans.slice(expectedOrphans);
  } finally {
    await client.revokeSelf(token);
    client.close();
  }
}
