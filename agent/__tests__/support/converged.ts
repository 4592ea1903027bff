// What "converged" means for a world: the vault is unsealed and active, the
// stored plan and sidecar tokens work, the initial root token is revoked, and
// the stored keys unseal the server after a restart.
import { health } from "../../../__tests__/support/raft-cluster";
import { vaultRequest, waitFor } from "../../../__tests__/support/vault-http";
import type { World } from "./fixture";

const json = (b: Buffer | undefined) => {
  try {
    return b ? (JSON.parse(b.toString("utf8")) as Record<string, any>) : undefined; // eslint-disable-line @typescript-eslint/no-explicit-any
  } catch {
    return undefined;
  }
};

export async function waitForConverged(world: World, timeoutMs = 90_000): Promise<void> {
  const server = world.cluster.servers[0];
  await waitFor(
    "the sidecar to converge",
    async () => {
      if ((await health(server)).status !== 200) return undefined;
      const plan = json(world.store.latest(world.ids.planToken));
      const sidecar = json(world.store.latest(world.ids.sidecarToken));
      const root = json(world.store.latest(world.ids.rootToken));
      if (!plan?.token || !sidecar?.token || !root?.revoked) return undefined;
      for (const token of [plan.token, sidecar.token, root.generateRootToken]) {
        if ((await vaultRequest(server.addr, server.ca, "GET", "/v1/auth/token/lookup-self", { token })).status !== 200) return undefined;
      }
      // The sidecar stores its way back to root before revoking root, so wait for the revocation itself too.
      return (await initialRootRevoked(world)) ? true : undefined;
    },
    timeoutMs,
    100,
  );
}

export async function initialRootRevoked(world: World): Promise<boolean> {
  const server = world.cluster.servers[0];
  const init = json(world.store.latest(world.ids.initResponse));
  const res = await vaultRequest(server.addr, server.ca, "GET", "/v1/auth/token/lookup-self", { token: init?.response.root_token });
  return res.status === 403;
}

/** Restarts the server (it comes back sealed) and unseals it by hand with the stored keys. */
export async function storedKeysUnseal(world: World): Promise<boolean> {
  const server = world.cluster.servers[0];
  await server.stop();
  await server.start();
  const keys = json(world.store.latest(world.ids.initResponse))?.response.keys_base64 as string[];
  for (const key of keys.slice(0, 3)) await vaultRequest(server.addr, server.ca, "PUT", "/v1/sys/unseal", { body: { key } });
  return (await vaultRequest(server.addr, server.ca, "GET", "/v1/sys/seal-status")).body.sealed === false;
}
