// Issue 17, 7: an admin (or anyone who can revoke by accessor) revokes the tokens the sidecar keeps while their
// records stay in Secret Manager. The sidecar must notice that a stored token no longer works, mint a new one
// (through a short-lived root from generate-root), store it, and leave no valid token unstored. On both
// distributions. (The generate-root token revoked as well, which leaves no way back to root on OpenBao, is
// faults.int.test.ts's case 9.)
import { vaultRequest, waitFor } from "../../../__tests__/support/vault-http";
import { waitForConverged } from "../support/converged";
import { createWorld, type World } from "../support/fixture";
import { Sidecar, stopAllSidecars } from "../support/sidecar";
import { revokeByAccessor, unstoredValidTokens } from "../support/tokens";

jest.setTimeout(240_000);

let world: World;
const json = (b: Buffer | undefined) => JSON.parse(String(b)) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

beforeAll(async () => {
  world = await createWorld({ replicas: 1, seal: "shamir", periodSec: 8 });
  new Sidecar(world.sidecarEnv(0));
  await waitForConverged(world);
});
afterAll(async () => {
  await stopAllSidecars();
  await world.teardown();
});

it.each([
  ["sidecar", () => world.ids.sidecarToken],
  ["plan", () => world.ids.planToken],
] as const)("re-mints and stores the %s token after it was revoked by accessor with its record kept", async (name, id) => {
  const server = world.cluster.servers[0];
  const old = json(world.store.latest(id()));
  await revokeByAccessor(world, String(old.accessor));
  expect((await vaultRequest(server.addr, server.ca, "GET", "/v1/auth/token/lookup-self", { token: old.token })).status).toBe(403);

  // Within a few of the sidecar's passes (each a few seconds at this period), scaled for a loaded machine.
  const fresh = await waitFor(
    `a new ${name} token in its record`,
    async () => {
      const latest = json(world.store.latest(id()));
      return latest.token !== old.token ? latest : undefined;
    },
    120_000,
    200,
  );
  const self = await vaultRequest(server.addr, server.ca, "GET", "/v1/auth/token/lookup-self", { token: fresh.token });
  expect(self.status).toBe(200);
  expect((self.body.data as { policies: string[] }).policies).toContain(name === "plan" ? "vault-gke-plan" : "vault-gke-sidecar");
  await waitForConverged(world);
  expect(await unstoredValidTokens(world)).toEqual([]);
});
