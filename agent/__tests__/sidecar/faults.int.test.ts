// What production does to the sidecar, replayed against real OpenBao servers
// and the Secret Manager stand-in: the Vault server killed around init, records
// that are not records, a secret the keys cannot go to, a canary write that
// fails after init, a token store that refuses, the generate-root token gone,
// Google's logging switches set. Each ends converged, or with the expected
// diagnosis reported while the sidecar keeps running, within 60 s; and always:
// initialized at most once, the stored keys unseal, no valid token left
// without its record, no key or token in any output.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { vaultRequest, waitFor } from "../../../__tests__/support/vault-http";
import { DISTRIBUTION, projectRoot } from "../../../__tests__/support/bao";
import { createWorld, type World } from "../support/fixture";
import { storedKeysUnseal, waitForConverged } from "../support/converged";
import { findLeaks, storedSecrets } from "../support/leak-scan";
import { Sidecar, sidecarEndpoint, stopAllSidecars, transcript } from "../support/sidecar";
import { revokeByAccessor, unstoredValidTokens } from "../support/tokens";

jest.setTimeout(120_000);

const CONVERGE_MS = 60_000;
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

const json = (b: Buffer | undefined) => JSON.parse(String(b)) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface State {
  diagnosis?: { code: string; message: string; recovery: string[] };
  verifier?: { findings: unknown[] };
  state: string;
}
async function state(sidecar: Sidecar): Promise<State> {
  return (await (await fetch(`${await sidecarEndpoint(sidecar)}/state`)).json()) as State;
}

/** Waits for the sidecar to report `code` at error level, and checks it keeps running and answering its probes. */
async function expectDiagnosis(sidecar: Sidecar, code: string): Promise<Record<string, unknown>> {
  const line = await sidecar.waitForLine((l) => l.level === "error" && l.diagnosis === code, `the ${code} diagnosis`, CONVERGE_MS);
  const endpoint = await sidecarEndpoint(sidecar);
  expect((await fetch(`${endpoint}/livez`)).status).toBe(200);
  expect((await fetch(`${endpoint}/readyz`)).status).toBe(200);
  expect((await state(sidecar)).diagnosis?.code).toBe(code);
  expect(sidecar.child.exitCode).toBeNull();
  // Reported once per state, not on every pass.
  await new Promise((r) => setTimeout(r, 1500));
  expect(sidecar.lines.filter((l) => l.diagnosis === code && l.level === "error")).toHaveLength(1);
  return line;
}

/** HashiCorp Vault's generate-root takes no token: the sidecar makes root from the stored keys, and a new generate-root token. */
async function expectWayBackOnVault(sidecar: Sidecar, w: World): Promise<void> {
  await sidecar.waitForLog("generate-root token created and stored", CONVERGE_MS);
  await waitForConverged(w, CONVERGE_MS);
  expect(sidecar.lines.filter((l) => l.diagnosis !== undefined)).toEqual([]);
}

describe("1. the Vault server killed around init, then restarted with the same disk", () => {
  async function killServer(w: World): Promise<void> {
    await w.cluster.servers[0].kill();
    await w.cluster.servers[0].start();
  }

  it.each([
    ["before the init request: initializes once and converges", "after-intent"],
    ["right after init answered: stores the keys, unseals the restarted server and converges", "after-init"],
  ])("%s", async (_, pauseAt) => {
    world = await createWorld({ replicas: 1, seal: "shamir" });
    const sidecar = new Sidecar(world.sidecarEnv(0, { VAULT_GKE_TEST_PAUSE_AT: pauseAt, VAULT_GKE_TEST_PAUSE_MS: "1500" }));
    await sidecar.waitForLog("test hook: pausing at this step");
    await killServer(world);
    await waitForConverged(world, CONVERGE_MS);
    expect(world.store.versions(world.ids.initResponse)).toHaveLength(1);
    expect(await unstoredValidTokens(world)).toEqual([]);
    await sidecar.stop();
    expect(await storedKeysUnseal(world)).toBe(true);
  });

  it("while init is in flight: diagnoses the half-written initialization, prescribing a wipe of the pod that holds no data", async () => {
    world = await createWorld({ replicas: 1, seal: "shamir" });
    const sidecar = new Sidecar(world.sidecarEnv(0));
    await sidecar.waitForLog("initializing vault");
    await new Promise((r) => setTimeout(r, 50));
    await killServer(world);
    const line = await expectDiagnosis(sidecar, "half-initialized-storage");
    expect(String(line.msg)).toContain("cluster already has state");
    expect(String(line.msg)).toContain("holds no data");
    expect(JSON.stringify(line.recovery)).toContain("delete pvc data-vault-0");
    // No keys were ever produced, so none are stored, and nothing else was initialized.
    expect(world.store.versions(world.ids.initResponse)).toHaveLength(0);
    expect((await vaultRequest(world.cluster.servers[0].addr, world.cluster.ca, "GET", "/v1/sys/health")).status).toBe(501);
  });
});

describe("2. bytes that are not a record in each token record", () => {
  it.each([
    ["plan token", "planToken"],
    ["sidecar token", "sidecarToken"],
    ["root (generate-root) token", "rootToken"],
  ] as const)("%s: written again from the copy the sidecar holds, while the other tokens keep being renewed", async (_, key) => {
    world = await createWorld({ replicas: 1, seal: "shamir", periodSec: 8 });
    const sidecar = new Sidecar(world.sidecarEnv(0));
    await waitForConverged(world, CONVERGE_MS);
    const before = world.store.latest(world.ids[key]);
    world.store.putVersion(world.ids[key], "\u0000\u00ffnot a record");
    await sidecar.waitForLog("the stored record was missing or unreadable; wrote it again from the copy this sidecar holds", CONVERGE_MS);
    expect(world.store.latest(world.ids[key])?.equals(before as Buffer)).toBe(true);
    // Renewal never stalled: the short-period tokens are still alive.
    await waitForConverged(world, CONVERGE_MS);
    expect(await unstoredValidTokens(world)).toEqual([]);
  });

  it("plan token record garbled while no sidecar runs: the next one makes and stores a new plan token", async () => {
    world = await createWorld({ replicas: 1, seal: "shamir" });
    const first = new Sidecar(world.sidecarEnv(0));
    await waitForConverged(world, CONVERGE_MS);
    await first.stop();
    const old = json(world.store.latest(world.ids.planToken));
    world.store.putVersion(world.ids.planToken, "garbage");
    const second = new Sidecar(world.sidecarEnv(0));
    await second.waitForLog("plan token created and stored", CONVERGE_MS);
    expect(json(world.store.latest(world.ids.planToken)).token).not.toBe(old.token);
    await waitForConverged(world, CONVERGE_MS);
  });

  it("generate-root record garbled while no sidecar runs: on OpenBao reports that root cannot come back, with the runbook, keeps renewing, and recovers by the README's runbook; on Vault makes a new one", async () => {
    world = await createWorld({ replicas: 1, seal: "shamir", periodSec: 8 });
    const first = new Sidecar(world.sidecarEnv(0));
    await waitForConverged(world, CONVERGE_MS);
    await first.stop();
    world.store.putVersion(world.ids.rootToken, "garbage");
    const second = new Sidecar(world.sidecarEnv(0));
    if (DISTRIBUTION === "vault") return expectWayBackOnVault(second, world);
    const line = await expectDiagnosis(second, "no-way-back-to-root");
    expect(JSON.stringify(line.recovery)).toContain("disable_unauthed_generate_root_endpoints = false");
    // The plan token (8 s period) stays alive: renewal does not wait for root.
    await new Promise((r) => setTimeout(r, 10_000));
    const plan = json(world.store.latest(world.ids.planToken));
    expect((await vaultRequest(world.cluster.servers[0].addr, world.cluster.ca, "GET", "/v1/auth/token/lookup-self", { token: plan.token })).status).toBe(200);

    // The README's runbook (generate-root recovery, OpenBao): the unauthenticated endpoints back on in the
    // listener stanza, a restart, the sidecar stores a new generate-root token; then the line goes again.
    const server = world.cluster.servers[0];
    const configFile = join(server.dir, "config.hcl");
    const shipped = readFileSync(configFile, "utf8");
    expect(shipped).toContain('listener "tcp" {');
    writeFileSync(configFile, shipped.replace('listener "tcp" {', 'listener "tcp" {\n  disable_unauthed_generate_root_endpoints = false'));
    await server.stop();
    await server.start();
    await second.waitForLog("generate-root token created and stored", CONVERGE_MS);
    await second.waitForLog("diagnosis resolved", CONVERGE_MS);
    writeFileSync(configFile, shipped);
    await server.stop();
    await server.start();
    await waitForConverged(world, CONVERGE_MS);
    const record = json(world.store.latest(world.ids.rootToken));
    expect(record.revoked).toBe(true);
    expect(
      (await vaultRequest(server.addr, world.cluster.ca, "GET", "/v1/auth/token/lookup-self", { token: record.generateRootToken })).body.data,
    ).toMatchObject({ policies: ["generate-root"] });
  });
});

describe("3. the init-response secret alone refuses (the canary works)", () => {
  it.each([
    [
      "a missing grant (403)",
      (w: World) => w.store.deny(w.ids.initResponse, true),
      (w: World) => w.store.deny(w.ids.initResponse, false),
      "missing secretmanager.versions.add, secretmanager.versions.access",
    ],
    [
      "a missing secret (404)",
      (w: World) => w.store.deleteSecret(w.ids.initResponse),
      (w: World) => w.store.createSecrets(w.ids.initResponse),
      "does not exist",
    ],
  ])("%s: never initializes, says which secret and why, and initializes once it is fixed", async (_, breakIt, fixIt, why) => {
    world = await createWorld({ replicas: 1, seal: "shamir" });
    breakIt(world);
    const sidecar = new Sidecar(world.sidecarEnv(0));
    const line = await expectDiagnosis(sidecar, "store-not-ready");
    expect(String(line.msg)).toContain(`example-vault-init-response${why.startsWith("missing") ? ": " : " "}${why}`);
    expect((await vaultRequest(world.cluster.servers[0].addr, world.cluster.ca, "GET", "/v1/sys/health")).status).toBe(501);
    expect(sidecar.lines.some((l) => l.msg === "initializing vault")).toBe(false);
    fixIt(world);
    await waitForConverged(world, CONVERGE_MS);
    await sidecar.waitForLog("diagnosis resolved", 5_000);
    expect(world.store.versions(world.ids.initResponse)).toHaveLength(1);
    expect(await unstoredValidTokens(world)).toEqual([]);
    await sidecar.stop();
    expect(await storedKeysUnseal(world)).toBe(true);
  });
});

describe("4. the canary's initialized write fails after init", () => {
  it("retries it until the canary says initialized; and a lost init response then never prescribes deleting data", async () => {
    world = await createWorld({ replicas: 1, seal: "shamir" });
    const sidecar = new Sidecar(world.sidecarEnv(0));
    await sidecar.waitForLog("secret store works; intent to initialize recorded");
    world.store.holdWrites(world.ids.canary, true);
    await waitForConverged(world, CONVERGE_MS);
    expect(json(world.store.latest(world.ids.canary)).kind).toBe("intent");
    await sidecar.waitForLog("the canary could not be marked initialized; retrying on the next pass", 5_000);
    world.store.holdWrites(world.ids.canary, false);
    await waitFor(
      "the canary to say initialized",
      async () => (json(world?.store.latest(world.ids.canary)).kind === "initialized" ? true : undefined),
      CONVERGE_MS,
      100,
    );
    expect(world.store.versions(world.ids.initResponse)).toHaveLength(1);
    expect(await unstoredValidTokens(world)).toEqual([]);
    await sidecar.stop();

    // The same stale intent, then the init response lost: the records written after the keys prove data may exist.
    world.store.putVersion(world.ids.canary, JSON.stringify({ format: "vault-gke/canary/v1", kind: "intent", pod: "vault-0", at: "2026-11-29T00:00:00Z" }));
    const keys = world.store.versions(world.ids.initResponse);
    world.store.destroyVersions(world.ids.initResponse);
    await world.cluster.servers[0].stop();
    await world.cluster.servers[0].start();
    const again = new Sidecar(world.sidecarEnv(0));
    const line = await expectDiagnosis(again, "keys-gone");
    expect(String(line.msg)).toContain("example-vault-root-token holds a record stored at");
    expect(JSON.stringify(line)).not.toMatch(/delete pvc/i);
    expect(JSON.stringify(line.recovery)).toContain("delayed-destruction window");
    world.store.putVersion(world.ids.initResponse, keys[0]);
  });
});

// Tokens are looked up every quarter period (at most every minute): short periods make the tests quick.
describe("5. the plan token's record cannot be stored", () => {
  it("makes no token while the secret refuses it, and says so", async () => {
    world = await createWorld({ replicas: 1, seal: "shamir", periodSec: 8 });
    const sidecar = new Sidecar(world.sidecarEnv(0));
    await waitForConverged(world, CONVERGE_MS);
    world.store.deny(world.ids.planToken, true);
    const plan = json(world.store.latest(world.ids.planToken));
    await revokeByAccessor(world, plan.accessor);
    await expectDiagnosis(sidecar, "token-not-storable");
    expect(sidecar.lines.filter((l) => l.msg === "plan token created and stored")).toHaveLength(1);
    world.store.deny(world.ids.planToken, false);
    await waitForConverged(world, CONVERGE_MS);
    expect(await unstoredValidTokens(world)).toEqual([]);
  });

  it("revokes a new token whose record write fails, and leaves no valid token unstored", async () => {
    world = await createWorld({ replicas: 1, seal: "shamir", periodSec: 8 });
    const sidecar = new Sidecar(world.sidecarEnv(0));
    await waitForConverged(world, CONVERGE_MS);
    const plan = json(world.store.latest(world.ids.planToken));
    world.store.holdWrites(world.ids.planToken, true);
    await revokeByAccessor(world, plan.accessor);
    await sidecar.waitForLog("the new plan token could not be stored, so it was revoked", CONVERGE_MS);
    expect(await unstoredValidTokens(world)).toEqual([]);
    world.store.holdWrites(world.ids.planToken, false);
    await waitForConverged(world, CONVERGE_MS);
    expect(await unstoredValidTokens(world)).toEqual([]);
    // Few attempts, each with one short-lived root that was revoked: the waits back off.
    const revoked = sidecar.lines.filter((l) => l.msg === "the new plan token could not be stored, so it was revoked").length;
    expect(revoked).toBeLessThan(10);
  });
});

describe("6. Google's logging switches set in the pod", () => {
  it("clears them before any Google library loads: no payload and no access token in the output", async () => {
    world = await createWorld({ replicas: 1, seal: "shamir" });
    const sidecar = new Sidecar(world.sidecarEnv(0, { GOOGLE_SDK_NODE_LOGGING: "*", NODE_DEBUG: "http,https,net", DEBUG: "*" }));
    await waitForConverged(world, CONVERGE_MS);
    await sidecar.stop();
    expect(sidecar.lines.find((l) => l.msg === "removed logging switches that would print secrets from the Google libraries")?.variables).toEqual([
      "GOOGLE_SDK_NODE_LOGGING",
      "NODE_DEBUG",
      "DEBUG",
    ]);
    expect(sidecar.output).not.toContain(world.store.accessToken);
    expect(sidecar.output).not.toMatch(/"payload"\s*:\s*\{\s*"data"/);
    expect(findLeaks(storedSecrets(world.store, world.ids), sidecar.output)).toEqual([]);
  });
});

describe("9. the generate-root token revoked (OpenBao has no unauthenticated way back; Vault has)", () => {
  it("reports it when root is needed, with the runbook, and keeps running (on Vault: makes new tokens from the stored keys)", async () => {
    world = await createWorld({ replicas: 1, seal: "shamir", periodSec: 8 });
    const sidecar = new Sidecar(world.sidecarEnv(0));
    await waitForConverged(world, CONVERGE_MS);
    const root = json(world.store.latest(world.ids.rootToken));
    const plan = json(world.store.latest(world.ids.planToken));
    const server = world.cluster.servers[0];
    await revokeByAccessor(world, plan.accessor);
    await revokeByAccessor(world, root.generateRootAccessor);
    expect((await vaultRequest(server.addr, server.ca, "GET", "/v1/auth/token/lookup-self", { token: root.generateRootToken })).status).toBe(403);
    if (DISTRIBUTION === "vault") return expectWayBackOnVault(sidecar, world);
    const line = await expectDiagnosis(sidecar, "no-way-back-to-root");
    // Which root-needing task reports first is a race between two valid outcomes: any of them names the way back.
    expect(String(line.msg)).toMatch(/^root is needed \((a new (generate-root|plan|sidecar) token(, )?)+\) and cannot be generated/);
  });
});

describe("7. every other diagnosis keeps the sidecar running and answering", () => {
  it("keys stored, vault empty (its data lost): refuses to initialize again", async () => {
    world = await createWorld({ replicas: 1, seal: "shamir" });
    world.store.putVersion(
      world.ids.initResponse,
      JSON.stringify({
        format: "vault-gke/init-response/v1",
        storedAt: "2026-01-01T00:00:00Z",
        seal: "shamir",
        response: { keys_base64: ["a2V5"], root_token: "r" },
      }),
    );
    const sidecar = new Sidecar(world.sidecarEnv(0));
    const line = await expectDiagnosis(sidecar, "keys-stored-but-vault-uninitialized");
    expect(JSON.stringify(line.recovery)).toContain("docs/disaster-recovery.md");
    expect((await vaultRequest(world.cluster.servers[0].addr, world.cluster.ca, "GET", "/v1/sys/health")).status).toBe(501);
  });

  it("initialized by someone else: says so and how to hand its keys over", async () => {
    world = await createWorld({ replicas: 1, seal: "shamir" });
    await vaultRequest(world.cluster.servers[0].addr, world.cluster.ca, "PUT", "/v1/sys/init", { body: { secret_shares: 1, secret_threshold: 1 } });
    const sidecar = new Sidecar(world.sidecarEnv(0));
    const line = await expectDiagnosis(sidecar, "initialized-elsewhere");
    expect(JSON.stringify(line.recovery)).toContain("vault-gke/init-response/v1");
  });

  it("the init response unreadable (403) on an initialized vault: never deletes data, says which grant", async () => {
    world = await createWorld({ replicas: 1, seal: "shamir" });
    const first = new Sidecar(world.sidecarEnv(0));
    await waitForConverged(world, CONVERGE_MS);
    await first.stop();
    world.store.deny(world.ids.initResponse, true);
    await world.cluster.servers[0].stop();
    await world.cluster.servers[0].start();
    const second = new Sidecar(world.sidecarEnv(0));
    const line = await expectDiagnosis(second, "init-response-unreadable");
    expect(String(line.msg)).toContain("HTTP 403");
    expect(JSON.stringify(line.recovery)).toContain("roles/secretmanager.secretAccessor");
    expect(JSON.stringify(line)).not.toMatch(/delete pvc/i);
    world.store.deny(world.ids.initResponse, false);
    await waitForConverged(world, CONVERGE_MS);
    await second.waitForLog("diagnosis resolved", 5_000);
  });
});

describe("the status endpoint", () => {
  it("answers health, the state as JSON and Prometheus metrics that the reference parser reads", async () => {
    world = await createWorld({ replicas: 1, seal: "shamir" });
    const sidecar = new Sidecar(world.sidecarEnv(0, { VERIFY_INTERVAL_SEC: "1" }));
    await waitForConverged(world, CONVERGE_MS);
    await sidecar.waitForLog("verifier ran", CONVERGE_MS);
    const endpoint = await sidecarEndpoint(sidecar);
    const s = await state(sidecar);
    expect(s).toMatchObject({ state: "active" });
    expect(s.diagnosis).toBeUndefined();
    const metrics = await (await fetch(`${endpoint}/metrics`)).text();
    const python = join(projectRoot(), ".tools", "venv", "bin", "python");
    const parsed = JSON.parse(
      execFileSync(
        python,
        [
          "-c",
          "import sys, json\nfrom prometheus_client.parser import text_string_to_metric_families as p\nprint(json.dumps({f.name: [[s.labels, s.value] for s in f.samples] for f in p(sys.stdin.read())}))",
        ],
        { input: metrics, encoding: "utf8" },
      ),
    ) as Record<string, [Record<string, string>, number][]>;
    expect(parsed.vault_gke_sidecar_vault_state.find(([l]) => l.state === "active")?.[1]).toBe(1);
    expect(parsed.vault_gke_sidecar_last_converged_timestamp_seconds[0][1]).toBeGreaterThan(Date.now() / 1000 - 120);
    expect(parsed.vault_gke_sidecar_token_expiry_timestamp_seconds.map(([l]) => l.token).sort()).toEqual(["generate-root", "plan", "sidecar"]);
    expect(parsed.vault_gke_verifier_last_run_timestamp_seconds[0][1]).toBeGreaterThan(0);
    expect(Object.keys(parsed)).toEqual(
      expect.arrayContaining(["vault_gke_sidecar_diagnosis", "vault_gke_sidecar_failures", "vault_gke_sidecar_heartbeat_timestamp_seconds"]),
    );
    expect((await fetch(`${endpoint}/nope`)).status).toBe(404);
  });
});

it("printed no key, token or init response in any run", () => {
  expect(secrets.length).toBeGreaterThan(50);
  expect(findLeaks(secrets, transcript.join(""))).toEqual([]);
});
