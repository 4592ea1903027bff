// The plan token is renewed before it expires, and is re-created
// through generate-root once the root token is revoked and the stored
// plan token is gone.
import { vaultRequest, waitFor } from "../../../__tests__/support/vault-http";
import { createWorld, type World } from "../support/fixture";
import { revokeByAccessor } from "../support/tokens";
import { waitForConverged } from "../support/converged";
import { findLeaks, storedSecrets } from "../support/leak-scan";
import { Sidecar, stopAllSidecars, transcript } from "../support/sidecar";

jest.setTimeout(180_000);

const PERIOD_SEC = 6;
let world: World;
let sidecar: Sidecar;
const json = (b: Buffer | undefined) => JSON.parse(String(b)) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

beforeAll(async () => {
  world = await createWorld({ replicas: 1, seal: "shamir", periodSec: PERIOD_SEC });
  sidecar = new Sidecar(world.sidecarEnv(0));
  await waitForConverged(world);
});
afterAll(async () => {
  await stopAllSidecars();
  await world.teardown();
});

it("renews the plan token before it expires", async () => {
  const server = world.cluster.servers[0];
  const { token } = json(world.store.latest(world.ids.planToken));
  const start = Date.now();
  // Stay past two full periods: without renewal the token would be gone.
  while (Date.now() - start < PERIOD_SEC * 2.5 * 1000) {
    const self = await vaultRequest(server.addr, server.ca, "GET", "/v1/auth/token/lookup-self", { token });
    expect(self.status).toBe(200);
    expect(Number((self.body.data as { ttl: number }).ttl)).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 500));
  }
  expect(sidecar.lines.filter((l) => l.msg === "token renewed" && l.tokenName === "plan").length).toBeGreaterThanOrEqual(2);
});

it("re-creates it through generate-root after the root token was revoked and the stored token deleted", async () => {
  const server = world.cluster.servers[0];
  const old = json(world.store.latest(world.ids.planToken));
  expect(json(world.store.latest(world.ids.rootToken)).revoked).toBe(true);
  await revokeByAccessor(world, old.accessor);
  world.store.destroyVersions(world.ids.planToken);

  const fresh = await waitFor(
    "a new plan token",
    async () => {
      const latest = world.store.latest(world.ids.planToken);
      return latest && json(latest).token !== old.token ? json(latest) : undefined;
    },
    60_000,
    100,
  );
  const self = await vaultRequest(server.addr, server.ca, "GET", "/v1/auth/token/lookup-self", { token: fresh.token });
  expect(self.status).toBe(200);
  expect((self.body.data as { policies: string[] }).policies).toContain("vault-gke-plan");

  const lines = sidecar.lines;
  expect(lines.some((l) => l.msg === "root token revoked; generating a short-lived one from the stored keys")).toBe(true);
  expect(lines.some((l) => l.msg === "plan token created and stored")).toBe(true);
  // The generated root was revoked right after use.
  await waitFor("the generated root to be revoked", async () =>
    sidecar.lines.some((l) => l.msg === "root token revoked" && l.generated === true) ? true : undefined,
  );
});

it("printed no key, token or init response", () => {
  expect(findLeaks(storedSecrets(world.store, world.ids), transcript.join(""))).toEqual([]);
});
