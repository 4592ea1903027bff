// The sidecar is SIGKILLed at every step boundary of the bootstrap and started
// again: every run converges, nothing is initialized twice, no token is left
// valid without its record, and the stored keys always unseal the server. The
// one window no process can close (between the init response and its first
// durable write) ends in a precise diagnosis, reported while the sidecar keeps
// running.
import type { Step } from "../../src/sidecar/test-hooks";
import { createWorld, type World } from "../support/fixture";
import { initialRootRevoked, storedKeysUnseal, waitForConverged } from "../support/converged";
import { findLeaks, storedSecrets } from "../support/leak-scan";
import { Sidecar, sidecarEndpoint, stopAllSidecars, transcript } from "../support/sidecar";
import { unstoredValidTokens } from "../support/tokens";
import { waitFor } from "../../../__tests__/support/vault-http";

jest.setTimeout(180_000);

const STEPS: Step[] = [
  "before-intent",
  "after-intent",
  "after-init",
  "after-store",
  "after-root-stored",
  "after-unseal",
  "after-audit",
  "after-policies",
  "after-generate-root-token-created",
  "after-generate-root-token-stored",
  "after-sidecar-token-created",
  "after-sidecar-token-stored",
  "after-plan-token-created",
  "after-plan-token-stored",
  "after-root-revoked",
];

const secrets: string[] = [];
let world: World | undefined;

afterEach(async () => {
  await stopAllSidecars();
  if (world) {
    secrets.push(...storedSecrets(world.store, world.ids));
    await world.teardown();
    world = undefined;
  }
});

describe.each(STEPS)("killed at %s", (step) => {
  it(step === "after-init" ? "restarts into a precise diagnosis, never a silent success" : "converges when started again", async () => {
    world = await createWorld({ replicas: 1, seal: "shamir" });
    const first = new Sidecar(world.sidecarEnv(0, { VAULT_GKE_TEST_CRASH_AT: step }));
    expect(await first.exited).toEqual({ code: null, signal: "SIGKILL" });
    expect(first.lines.some((l) => l.msg === "test hook: crashing at this step" && l.step === step)).toBe(true);

    const second = new Sidecar(world.sidecarEnv(0));
    if (step === "after-init") {
      const line = await second.waitForLine((l) => l.level === "error", "the diagnosis");
      expect(line?.msg).toMatch(/init response was lost between init and its first write, so the vault holds no data yet/);
      expect(line?.diagnosis).toBe("keys-lost-before-first-write");
      expect(JSON.stringify(line?.recovery)).toMatch(/delete pvc/);
      // It keeps running, answers its probes and says so on its endpoint.
      const endpoint = await sidecarEndpoint(second);
      const state = (await (await fetch(`${endpoint}/state`)).json()) as { diagnosis?: { code: string } };
      expect(state.diagnosis?.code).toBe("keys-lost-before-first-write");
      expect((await fetch(`${endpoint}/livez`)).status).toBe(200);
      expect((await fetch(`${endpoint}/readyz`)).status).toBe(200);
      expect(second.child.exitCode).toBeNull();
      expect(world.store.versions(world.ids.initResponse)).toHaveLength(0);
      return;
    }
    await waitForConverged(world);
    expect(world.store.versions(world.ids.initResponse)).toHaveLength(1);
    expect(await initialRootRevoked(world)).toBe(true);
    // A token made and killed before its record was stored expires with its period; none made after is unstored.
    expect(await unstoredValidTokens(world, step.endsWith("-token-created") ? 1 : 0)).toEqual([]);
    await second.stop();
    expect(await storedKeysUnseal(world)).toBe(true);
  });
});

it("ends with the keys stored when the store fails its first writes after init", async () => {
  world = await createWorld({ replicas: 1, seal: "shamir" });
  world.store.failNextWrites(world.ids.initResponse, 6);
  const sidecar = new Sidecar(world.sidecarEnv(0));
  await waitForConverged(world);
  expect(sidecar.lines.filter((l) => l.msg === "storing the init response failed; the keys are held in memory, retrying")).toHaveLength(6);
  expect(sidecar.lines.find((l) => l.msg === "init response stored and verified")?.attempts).toBe(7);
  expect(world.store.versions(world.ids.initResponse)).toHaveLength(1);
  await sidecar.stop();
  expect(await storedKeysUnseal(world)).toBe(true);
});

it("exits only after the keys are stored when SIGTERM arrives while they are unstored", async () => {
  world = await createWorld({ replicas: 1, seal: "shamir" });
  world.store.holdWrites(world.ids.initResponse, true);
  const sidecar = new Sidecar(world.sidecarEnv(0));
  await sidecar.waitForLog("storing the init response failed; the keys are held in memory, retrying");
  sidecar.child.kill("SIGTERM");
  await sidecar.waitForLog("stop requested; storing the keys first");
  await new Promise((r) => setTimeout(r, 1500));
  expect(sidecar.child.exitCode).toBeNull(); // still trying
  world.store.holdWrites(world.ids.initResponse, false);
  expect(await sidecar.exited).toEqual({ code: 0, signal: null });
  expect(world.store.versions(world.ids.initResponse)).toHaveLength(1);
  expect(await storedKeysUnseal(world)).toBe(true);
});

it("gives up with exit 4 and says so when the grace period ends before the keys are stored", async () => {
  world = await createWorld({ replicas: 1, seal: "shamir" });
  world.store.holdWrites(world.ids.initResponse, true);
  const sidecar = new Sidecar(world.sidecarEnv(0, { STOP_GRACE_MS: "1000" }));
  await sidecar.waitForLog("storing the init response failed; the keys are held in memory, retrying");
  sidecar.child.kill("SIGTERM");
  expect(await sidecar.exited).toEqual({ code: 4, signal: null });
  expect(sidecar.lines.some((l) => l.level === "error" && /stop grace period spent and the init response is still not stored/.test(String(l.msg)))).toBe(true);
});

it("ends a store attempt already under way when the grace period runs out, not when the client times out", async () => {
  const w = (world = await createWorld({ replicas: 1, seal: "shamir" }));
  w.store.hangWrites(w.ids.initResponse, true);
  const graceMs = 3000;
  const sidecar = new Sidecar(w.sidecarEnv(0, { STOP_GRACE_MS: String(graceMs) }));
  await waitFor("the sidecar's write of the init response to hang", async () => (w.store.hungWrites > 0 ? true : undefined), 60_000, 25);
  const stoppedAt = Date.now();
  sidecar.child.kill("SIGTERM");
  expect(await sidecar.exited).toEqual({ code: 4, signal: null });
  // The kubelet kills the pod when the grace period ends: the sidecar must have said why by then
  // (the client's own timeout is 15 s per call, far beyond it).
  expect(Date.now() - stoppedAt).toBeLessThan(graceMs + 1000);
  expect(sidecar.lines.some((l) => l.level === "error" && /stop grace period spent and the init response is still not stored/.test(String(l.msg)))).toBe(true);
});

it("printed no key, token or init response in any run", () => {
  expect(secrets.length).toBeGreaterThan(50);
  expect(findLeaks(secrets, transcript.join(""))).toEqual([]);
});
