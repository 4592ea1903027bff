// Issue 17, defect 10: a restarted sidecar remembers nothing, so a token
// record the store does not return (503 for a few seconds) must not be taken
// for a missing one. Replayed on a real OpenBao server with the Secret Manager
// stand-in: no token is made, no diagnosis is reported for the blip, and
// afterwards every valid token the sidecar made is stored.
import { waitFor } from "../../../__tests__/support/vault-http";
import { createWorld, type World } from "../support/fixture";
import { waitForConverged } from "../support/converged";
import { Sidecar, stopAllSidecars } from "../support/sidecar";
import { unstoredValidTokens } from "../support/tokens";

jest.setTimeout(120_000);

const CONVERGE_MS = 60_000;
let world: World | undefined;

afterEach(async () => {
  await stopAllSidecars();
  await world?.teardown();
  world = undefined;
});

const json = (b: Buffer | undefined) => JSON.parse(String(b)) as { token?: string; generateRootToken?: string };

describe("a token record the store does not return at a restart", () => {
  it.each([
    ["the plan token's record", "planToken"],
    ["the sidecar token's record", "sidecarToken"],
    ["the root-token record (the generate-root token)", "rootToken"],
  ] as const)("%s: no token is made and no diagnosis reported; the stored tokens stay the ones in use", async (_, key) => {
    world = await createWorld({ replicas: 1, seal: "shamir" });
    const w = world;
    const first = new Sidecar(w.sidecarEnv(0));
    await waitForConverged(w, CONVERGE_MS);
    await first.stop();
    const before = { plan: w.store.latest(w.ids.planToken), sidecar: w.store.latest(w.ids.sidecarToken), root: w.store.latest(w.ids.rootToken) };

    w.store.holdReads(w.ids[key], true);
    const reads = w.store.reads(w.ids[key]);
    const second = new Sidecar(w.sidecarEnv(0));
    // The blip lasts until the restarted sidecar has asked for the record on at least three passes.
    await waitFor("three reads of the held record", async () => (w.store.reads(w.ids[key]) >= reads + 3 ? true : undefined), CONVERGE_MS, 100);
    w.store.holdReads(w.ids[key], false);
    await waitForConverged(w, CONVERGE_MS);

    const made = second.lines.filter((l) => /token created and stored$/.test(String(l.msg)));
    expect(made).toEqual([]);
    expect(second.lines.filter((l) => l.diagnosis !== undefined)).toEqual([]);
    expect(w.store.latest(w.ids.planToken)?.equals(before.plan as Buffer)).toBe(true);
    expect(w.store.latest(w.ids.sidecarToken)?.equals(before.sidecar as Buffer)).toBe(true);
    expect(json(w.store.latest(w.ids.rootToken)).generateRootToken).toBe(json(before.root).generateRootToken);
    expect(await unstoredValidTokens(w)).toEqual([]);
  });
});
