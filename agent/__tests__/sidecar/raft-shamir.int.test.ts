// Three Raft nodes with Shamir keys and three sidecars: pod 0 initializes,
// the followers' sidecars submit the stored keys so they join and unseal.
import { vaultRequest, waitFor } from "../../../__tests__/support/vault-http";
import { health } from "../../../__tests__/support/raft-cluster";
import { createWorld, type World } from "../support/fixture";
import { findLeaks, storedSecrets } from "../support/leak-scan";
import { Sidecar, stopAllSidecars, transcript } from "../support/sidecar";

jest.setTimeout(180_000);

let world: World;
beforeAll(async () => {
  world = await createWorld({ replicas: 3, seal: "shamir" });
});
afterAll(async () => {
  await stopAllSidecars();
  await world.teardown();
});

it("initializes once and every follower joins and unseals with the stored keys", async () => {
  const sidecars = [0, 1, 2].map((i) => new Sidecar(world.sidecarEnv(i)));
  await waitFor(
    "one active and two unsealed standbys",
    async () => {
      const h = await Promise.all(world.cluster.servers.map(health));
      return h.filter((x) => x.status === 200).length === 1 && h.filter((x) => x.status === 429).length === 2 ? true : undefined;
    },
    120_000,
    200,
  );
  expect(world.store.versions(world.ids.initResponse)).toHaveLength(1);
  expect(sidecars.flatMap((s) => s.lines).filter((l) => l.msg === "initializing vault")).toHaveLength(1);
  // The initializer is pod 0: its sidecar made the only init call.
  expect(sidecars[0].lines.filter((l) => l.msg === "initializing vault")).toHaveLength(1);
  for (const follower of sidecars.slice(1)) await follower.waitForLog("unsealed with the stored keys", 5_000);
  const leaders = await Promise.all(world.cluster.servers.map((s) => vaultRequest(s.addr, s.ca, "GET", "/v1/sys/leader")));
  expect(new Set(leaders.map((l) => l.body.leader_address)).size).toBe(1);
});

it("printed no key, token or init response", () => {
  expect(findLeaks(storedSecrets(world.store, world.ids), transcript.join(""))).toEqual([]);
});
