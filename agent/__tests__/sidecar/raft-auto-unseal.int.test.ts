// Three Raft nodes with auto-unseal: OpenBao's transit seal against a fourth
// (dev) OpenBao stands in for Cloud KMS. Three sidecars start together.
import { vaultRequest, waitFor } from "../../../__tests__/support/vault-http";
import { health } from "../../../__tests__/support/raft-cluster";
import { createWorld, type World } from "../support/fixture";
import { findLeaks, storedSecrets } from "../support/leak-scan";
import { Sidecar, stopAllSidecars, transcript } from "../support/sidecar";

jest.setTimeout(180_000);

let world: World;
const sidecars: Sidecar[] = [];

beforeAll(async () => {
  world = await createWorld({ replicas: 3, seal: "auto" });
});
afterAll(async () => {
  await stopAllSidecars();
  await world.teardown();
});

it("initializes exactly once; the others join and unseal; the recovery keys are stored", async () => {
  for (const i of [0, 1, 2]) sidecars.push(new Sidecar(world.sidecarEnv(i)));
  await sidecars[0].waitForLog("plan token created and stored", 120_000);
  const states = await waitFor(
    "one active and two standby servers",
    async () => {
      const h = await Promise.all(world.cluster.servers.map(health));
      return h.filter((x) => x.status === 200).length === 1 && h.filter((x) => x.status === 429).length === 2 ? h : undefined;
    },
    120_000,
    200,
  );
  expect(states.every((h) => h.initialized && !h.sealed)).toBe(true);

  // Exactly one initialization: one stored init response, one "initializing" line in all three logs.
  expect(world.store.versions(world.ids.initResponse)).toHaveLength(1);
  expect(sidecars.flatMap((s) => s.lines).filter((l) => l.msg === "initializing vault")).toHaveLength(1);
  expect(sidecars[1].lines.some((l) => l.msg === "initializing vault")).toBe(false);
  const init = JSON.parse(String(world.store.latest(world.ids.initResponse)));
  expect(init.seal).toBe("auto");
  expect(init.response.recovery_keys_base64).toHaveLength(5);
  expect(init.response.keys_base64 ?? []).toHaveLength(0);

  // All three are in one Raft cluster with one leader.
  const leaders = await Promise.all(world.cluster.servers.map((s) => vaultRequest(s.addr, s.ca, "GET", "/v1/sys/leader")));
  expect(new Set(leaders.map((l) => l.body.leader_address)).size).toBe(1);
  expect(leaders.filter((l) => l.body.is_self)).toHaveLength(1);
  const prov = JSON.parse(String(world.store.latest(world.ids.planToken)));
  const self = await vaultRequest(world.cluster.servers[0].addr, world.cluster.ca, "GET", "/v1/auth/token/lookup-self", { token: prov.token });
  expect(self.status).toBe(200);
});

it("printed no key, token or init response", () => {
  const secrets = storedSecrets(world.store, world.ids);
  expect(secrets.length).toBeGreaterThanOrEqual(8);
  expect(findLeaks(secrets, transcript.join(""))).toEqual([]);
});
