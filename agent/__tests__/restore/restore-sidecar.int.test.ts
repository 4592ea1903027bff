// The runbook's restore between two environments, with the bootstrap sidecar
// on both sides (docs/disaster-recovery.md, "Rebuilding a vault from a
// snapshot"): a source vault that its sidecar initialized and configured
// (initial root token revoked, generate-root, sidecar and plan tokens stored),
// a snapshot of it taken by the snapshot command, and a new 3-pod environment
// whose own sidecars initialized it with bootstrap.revokeRootToken false. The
// restore command replaces the new vault's storage with the snapshot; the
// records the runbook says to copy go into the new environment's Secret
// Manager (the stand-in), every server and sidecar restarts (the pods are
// deleted), and the new environment's sidecars must unseal every server and
// converge again: a fresh plan token the tenants' stacks can plan with. With
// the init response alone they cannot (OpenBao 2.5.3 and later refuse
// unauthenticated generate-root, and the new environment's generate-root
// token died with its token store): the test checks that too, which is why
// the runbook also copies the root-token record.
//
// On HashiCorp Vault two things differ, and the test says so where they do:
// Vault answers unauthenticated generate-root, so the init response alone lets
// the sidecars converge; and the restored Raft configuration is the 1-server
// source's, so the two servers the restore did not go through are removed from
// the cluster (530, refusing to rejoin with their data). Their sidecars report
// removed-from-cluster, and the test performs the runbook's step for them
// (docs/disaster-recovery.md, "Servers removed from the cluster after a
// restore"); they rejoin and everything converges.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateRoot } from "../../src/vault/generate-root";
import { VaultClient } from "../../src/vault/client";
import { DISTRIBUTION, stopAllBao, type BaoServer } from "../../../__tests__/support/bao";
import { startFakeGcs, stopAllFakeGcs, type FakeGcs } from "../../../__tests__/support/fake-gcs";
import { health, waitForActive } from "../../../__tests__/support/raft-cluster";
import { startTokenReviewStandIn, type TokenReviewStandIn } from "../../../__tests__/support/token-review-stand-in";
import { vaultRequest, waitFor } from "../../../__tests__/support/vault-http";
import { waitForConverged } from "../support/converged";
import { createWorld, type World } from "../support/fixture";
import { findLeaks, storedSecrets } from "../support/leak-scan";
import { Sidecar, stopAllSidecars, transcript } from "../support/sidecar";
import { removedServersDiagnosed, wipeAndRestartPod } from "./removed-servers";
import {
  commandTranscript,
  configureInClusterLogin,
  expectExit,
  runCommand,
  RESTORE_BUNDLE,
  SNAPSHOT_BUNDLE,
  untilKvServes,
} from "../support/snapshot-harness";

jest.setTimeout(600_000);

const BUCKET = "example-project-example-vault-snapshots";
const NAMESPACE = "vault";
const SERVICE_ACCOUNT = "vault-snapshot";

let dir: string;
let gcs: FakeGcs;
let k8s: TokenReviewStandIn;
let source: World;
let target: World;
/** The sidecars running now, one per pod of the world they serve. */
let sidecars: Sidecar[] = [];
const secrets: string[] = [];
/** A secret written into the source before the snapshot. */
const SECRET = { value: "written-in-the-source", owner: "alpha" };

const json = (b: Buffer | undefined) => JSON.parse(String(b)) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const environment = (world: World) => world.ids.initResponse.replace(/-vault-init-response$/, "");
const diagnoses = (s: Sidecar) => s.lines.filter((l) => l.diagnosis !== undefined && l.level === "error");

/** Stops the running sidecars and starts one per pod of `world` (what deleting the pods does to the sidecar containers). */
async function restartSidecars(world: World, extra: Record<string, string> = {}): Promise<Sidecar[]> {
  await Promise.all(sidecars.map((s) => s.stop()));
  sidecars = world.cluster.servers.map((_, i) => new Sidecar(world.sidecarEnv(i, extra)));
  return sidecars;
}

/** Every server stopped, then started again (sealed): the server containers of deleted pods. */
async function restartServers(world: World): Promise<void> {
  for (const server of world.cluster.servers) await server.stop();
  for (const server of world.cluster.servers) await server.start();
}

/** One active server and the others unsealed standbys; returns the active one. */
async function allUnsealed(world: World, timeoutMs = 60_000): Promise<BaoServer> {
  await waitFor(
    "one active server and unsealed standbys",
    async () => {
      const h = await Promise.all(world.cluster.servers.map(health));
      return h.filter((x) => x.status === 200).length === 1 && h.filter((x) => x.status === 429).length === world.cluster.servers.length - 1 ? true : undefined;
    },
    timeoutMs,
    200,
  ).catch(async (e: Error) => {
    throw new Error(`${e.message}\n${sidecars.map((s) => s.output.slice(-2000)).join("\n")}`);
  });
  return waitForActive(world.cluster.servers);
}

/** support/converged.ts's check, on whichever server is active. */
async function converged(world: World, timeoutMs = 90_000): Promise<BaoServer> {
  const active = await allUnsealed(world, timeoutMs);
  await waitForConverged({ ...world, cluster: { ...world.cluster, servers: [active] } }, timeoutMs);
  return active;
}

/** A short-lived root from the world's stored keys and generate-root token (an operator's break-glass), revoked after `work`. */
async function asRoot<T>(world: World, server: BaoServer, work: (token: string) => Promise<T>): Promise<T> {
  const client = new VaultClient({ address: server.addr, ca: server.ca });
  const init = json(world.store.latest(world.ids.initResponse));
  const token = await generateRoot(client, init.response.keys_base64, 3, json(world.store.latest(world.ids.rootToken)).generateRootToken);
  try {
    return await work(token);
  } finally {
    await client.revokeSelf(token);
    client.close();
  }
}

/**
 * OpenBao refuses to become active when a restored audit table differs from
 * the audit devices its configuration declares. Every environment declares
 * the same ones (/vault/audit/audit.log and stdout), but each loopback world
 * gets its own audit file: the target's servers are restarted (before their
 * init) declaring the source's, as in production.
 */
async function declareAuditDevicesOf(from: World, to: World): Promise<void> {
  // HashiCorp Vault declares none (the sidecar enables them through the API): its restored audit table is the snapshot's.
  if (DISTRIBUTION === "vault") return;
  const fileOf = (world: World) => (world.cluster.configs[0].props.auditDevices ?? []).find((d) => d.filePath !== "stdout")?.filePath as string;
  for (const server of to.cluster.servers) {
    const config = join(server.dir, "config.hcl");
    const hcl = readFileSync(config, "utf8");
    if (!hcl.includes(fileOf(to))) throw new Error(`${config} does not declare ${fileOf(to)}`);
    await server.stop();
    writeFileSync(config, hcl.replaceAll(fileOf(to), fileOf(from)));
    await server.start();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "vault-gke-restore-sidecar-"));
  mkdirSync(join(dir, "spool"));
  gcs = await startFakeGcs();
  await gcs.createBucket(BUCKET);
  k8s = await startTokenReviewStandIn();
  secrets.push(k8s.reviewerJwt);
  source = await createWorld({ replicas: 1, seal: "shamir" });
  target = await createWorld({ replicas: 3, seal: "shamir" });
  await declareAuditDevicesOf(source, target);
});

afterAll(async () => {
  await stopAllSidecars();
  await source?.teardown();
  await target?.teardown();
  await stopAllBao();
  await stopAllFakeGcs();
  await k8s?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it("the source: its sidecar converges; the snapshot command stores a snapshot of it", async () => {
  await restartSidecars(source);
  const server = await converged(source, 120_000);
  await Promise.all(sidecars.map((s) => s.stop()));
  // What the shared stack and a tenant's stack would have written, with a root from the stored keys.
  await asRoot(source, server, async (token) => {
    const ok = async (method: string, path: string, body?: unknown) => {
      const res = await vaultRequest(server.addr, server.ca, method, `/v1/${path}`, { token, body });
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    };
    await ok("POST", "sys/mounts/tenants/alpha/kv", { type: "kv", options: { version: "2" } });
    await untilKvServes("POST tenants/alpha/kv/data/app", () =>
      vaultRequest(server.addr, server.ca, "POST", "/v1/tenants/alpha/kv/data/app", { token, body: { data: SECRET } }),
    );
    await configureInClusterLogin(ok, k8s, {
      bound_service_account_names: [SERVICE_ACCOUNT],
      bound_service_account_namespaces: [NAMESPACE],
      audience: "vault",
      token_policies: ["snapshot"],
      token_ttl: "15m",
    });
  });
  const jwt = k8s.issue({ namespace: NAMESPACE, serviceAccount: SERVICE_ACCOUNT, audiences: ["vault"], ttlSec: 600 });
  secrets.push(jwt);
  writeFileSync(join(dir, "token"), jwt);
  const run = await runCommand(SNAPSHOT_BUNDLE, [], {
    VAULT_ADDR: server.addr,
    VAULT_CACERT: source.cluster.pki.caCertFile,
    KUBERNETES_TOKEN_FILE: join(dir, "token"),
    SNAPSHOT_BUCKET: BUCKET,
    ENVIRONMENT: environment(source),
    SPOOL_DIR: join(dir, "spool"),
    SNAPSHOT_MAX_AGE_SEC: "7200",
    STORAGE_EMULATOR_HOST: gcs.url,
  });
  expectExit(run, 0);
});

it("the new environment (runbook step 2): its sidecars initialize and unseal it and, with bootstrap.revokeRootToken false, keep the initial root token", async () => {
  await restartSidecars(target, { REVOKE_ROOT_TOKEN: "false" });
  const active = await allUnsealed(target, 120_000);
  await waitFor(
    "the plan token",
    async () => (sidecars.some((s) => s.lines.some((l) => l.msg === "plan token created and stored")) ? true : undefined),
    60_000,
    100,
  );
  const init = json(target.store.latest(target.ids.initResponse));
  expect((await vaultRequest(active.addr, active.ca, "GET", "/v1/auth/token/lookup-self", { token: init.response.root_token })).status).toBe(200);
});

/**
 * After the restore, until the pods restart: the server restored into is sealed (503); so is every other one on
 * OpenBao. On HashiCorp Vault another server may also go on as an unsealed standby that lost its active (474, "HA
 * unhealthy"; which one, and whether, is a race): it serves nothing either, and its sidecar waits.
 */
async function expectNoneServes(world: World): Promise<void> {
  const statuses = (await Promise.all(world.cluster.servers.map(health))).map((h) => h.status);
  if (DISTRIBUTION === "openbao") expect(statuses).toEqual([503, 503, 503]);
  else {
    expect(statuses[restoredInto]).toBe(503);
    for (const status of statuses) expect([503, 474]).toContain(status);
  }
}

/** Which server the restore went through. */
let restoredInto = -1;

/** HashiCorp Vault: server `i` of the target is an unsealed standby that lost its active (474): its sidecar waits, logging nothing more. */
const lostItsActive = async (i: number) => (await health(target.cluster.servers[i])).status === 474;

it("restore (runbook steps 3-4), the target's sidecars still running: the target seals itself", async () => {
  const active = await waitForActive(target.cluster.servers);
  restoredInto = target.cluster.servers.indexOf(active);
  const run = await runCommand(RESTORE_BUNDLE, ["--bucket", BUCKET, "--environment", environment(source), "--latest"], {
    VAULT_ADDR: active.addr,
    VAULT_CACERT: target.cluster.pki.caCertFile,
    VAULT_TOKEN: String(json(target.store.latest(target.ids.initResponse)).response.root_token),
    SPOOL_DIR: join(dir, "spool"),
    STORAGE_EMULATOR_HOST: gcs.url,
  });
  expectExit(run, 0);
  expect(run.lines.at(-1)).toMatchObject({ msg: "restored; the target sealed itself", sealedAfter: true });
  // Until the records are copied and the pods restarted, the running sidecars change nothing: every server stays sealed.
  const versions = () => Object.values(target.ids).map((id) => target.store.versions(id).length);
  const stored = versions();
  const lines = sidecars.map((s) => s.lines.length);
  await waitFor(
    "every sidecar to try again (or wait beside a standby that lost its active)",
    async () => ((await Promise.all(sidecars.map(async (s, i) => s.lines.length > lines[i] || (await lostItsActive(i))))).every(Boolean) ? true : undefined),
    120_000,
    200,
  ).catch(async (e: Error) => {
    const states = (await Promise.all(target.cluster.servers.map(health))).map((h) => h.status);
    throw new Error(`${e.message}; sys/health: ${states.join(", ")}\n${sidecars.map((s) => s.output.slice(-1500)).join("\n")}`);
  });
  await new Promise((r) => setTimeout(r, 2000));
  await expectNoneServes(target);
  expect(versions()).toEqual(stored);
});

const INIT_ONLY =
  DISTRIBUTION === "vault"
    ? "with only the source's init response copied, HashiCorp Vault: the server restored into converges (unauthenticated generate-root), the two others are removed from the cluster and their sidecars name the runbook step"
    : "with only the source's init response copied, the sidecars unseal every server but report no-way-back-to-root";
it(INIT_ONLY, async () => {
  target.store.putVersion(target.ids.initResponse, source.store.latest(source.ids.initResponse) as Buffer);
  // A running sidecar keeps the init response it read first: it goes on failing with the new environment's keys until restarted.
  const lines = sidecars.map((s) => s.lines.length);
  const failedUnseal = (l: Record<string, unknown>) => l.msg === "step failed; retrying" && JSON.stringify(l.err).includes("vault unseal: HTTP 400");
  // (A sidecar whose server is an unsealed standby that lost its active, HashiCorp Vault's 474, waits instead.)
  await waitFor(
    "every sidecar to fail to unseal again",
    async () =>
      (await Promise.all(sidecars.map(async (s, i) => s.lines.slice(lines[i]).some(failedUnseal) || (await lostItsActive(i))))).every(Boolean)
        ? true
        : undefined,
    120_000,
    200,
  );
  await expectNoneServes(target);
  await Promise.all(sidecars.map((s) => s.stop()));
  await restartServers(target);
  await restartSidecars(target, { REVOKE_ROOT_TOKEN: "false" });
  if (DISTRIBUTION === "vault") {
    // HashiCorp Vault: the servers not restored into are removed from the cluster (each sidecar says so), and the
    // server restored into needs no generate-root token (Vault answers unauthenticated generate-root): its sidecar
    // makes new tokens from the stored keys alone, so no-way-back-to-root is not reported.
    const { active } = await removedServersDiagnosed(target, sidecars);
    const onActive = sidecars[target.cluster.servers.indexOf(active)];
    await onActive.waitForLog("plan token created and stored", 60_000);
    expect(diagnoses(onActive)).toEqual([]);
    return;
  }
  const active = await allUnsealed(target);
  const onActive = sidecars[target.cluster.servers.indexOf(active)];
  const diagnosis = await onActive.waitForLine((l) => l.diagnosis !== undefined && l.level === "error", "a diagnosis", 30_000);
  expect(diagnosis.diagnosis).toBe("no-way-back-to-root");
  // The records of the new environment hold tokens of the replaced token store.
  const plan = json(target.store.latest(target.ids.planToken));
  expect((await vaultRequest(active.addr, active.ca, "GET", "/v1/auth/token/lookup-self", { token: plan.token })).status).toBe(403);
});

const BOTH_RECORDS = `with the source's root-token record copied too${DISTRIBUTION === "vault" ? " and the runbook's step for the removed servers (HashiCorp Vault)" : ""}, the sidecars converge: every server unsealed, new plan and sidecar tokens, the restored data readable`;
it(BOTH_RECORDS, async () => {
  target.store.putVersion(target.ids.rootToken, source.store.latest(source.ids.rootToken) as Buffer);
  await Promise.all(sidecars.map((s) => s.stop()));
  await restartServers(target);
  await restartSidecars(target, { REVOKE_ROOT_TOKEN: "false" });
  if (DISTRIBUTION === "vault") {
    // The runbook's "Servers removed from the cluster after a restore", as written: check that another server is
    // active, remove the removed ones from the Raft peers (Vault 1.21.4 still lists them), then delete each one's
    // data claim and pod.
    const { active, removed } = await removedServersDiagnosed(target, sidecars);
    const names = removed.map((i) => target.cluster.nodes[i].name);
    await asRoot(target, active, async (token) => {
      const client = new VaultClient({ address: active.addr, ca: active.ca });
      try {
        for (const name of names) {
          if (!(await client.raftPeers(token)).some((p) => p.id === name)) continue;
          const res = await vaultRequest(active.addr, active.ca, "POST", "/v1/sys/storage/raft/remove-peer", { token, body: { server_id: name } });
          expect(res.status).toBeLessThan(300);
        }
        expect((await client.raftPeers(token)).map((p) => p.id).filter((id) => names.includes(id))).toEqual([]);
      } finally {
        client.close();
      }
    });
    for (const i of removed) await wipeAndRestartPod(target, sidecars, i, { REVOKE_ROOT_TOKEN: "false" });
  }
  const active = await converged(target, 120_000);
  expect(sidecars.flatMap(diagnoses)).toEqual([]);
  // OpenBao: the active pod's sidecar made a short-lived root from the source's keys and generate-root token, used it,
  // and revoked it. (HashiCorp Vault: its sidecar did so in the previous step already, from the keys alone; the tokens
  // it stored then are valid, so nothing needs root now.)
  if (DISTRIBUTION === "openbao") {
    const onActive = sidecars[target.cluster.servers.indexOf(active)];
    expect(onActive.lines.find((l) => String(l.msg).startsWith("root token revoked; generating"))).toMatchObject({ withGenerateRootToken: true });
    expect(onActive.lines.map((l) => l.msg)).toEqual(
      expect.arrayContaining(["policies written", "sidecar token created and stored", "plan token created and stored"]),
    );
    await onActive.waitForLine((l) => l.msg === "root token revoked" && l.generated === true, "the short-lived root revoked", 10_000);
  }
  // The tenants' stacks plan with this token: it reads the restored configuration.
  const plan = json(target.store.latest(target.ids.planToken));
  const mounts = await vaultRequest(active.addr, active.ca, "GET", "/v1/sys/mounts", { token: plan.token });
  expect(Object.keys((mounts.body.data as Record<string, unknown>) ?? {})).toContain("tenants/alpha/kv/");
  await asRoot(target, active, async (token) => {
    const res = await vaultRequest(active.addr, active.ca, "GET", "/v1/tenants/alpha/kv/data/app", { token });
    expect((res.body.data as { data?: unknown }).data).toEqual(SECRET);
    // Autopilot promotes the restarted followers back to voters once they are stable (server_stabilization_time, 10 s by default).
    const client = new VaultClient({ address: active.addr, ca: active.ca });
    const voters = await waitFor(
      "three voters",
      async () => ((await client.raftPeers(token)).filter((p) => p.voter).length === 3 ? true : undefined),
      60_000,
      500,
    ).finally(() => client.close());
    expect(voters).toBe(true);
  });
});

it("after bootstrap.revokeRootToken goes back to true (runbook step 6) the sidecars stay converged", async () => {
  await restartSidecars(target);
  const active = await converged(target, 60_000);
  await sidecars[target.cluster.servers.indexOf(active)].waitForLog("verifier ran", 60_000);
  expect(sidecars.flatMap(diagnoses)).toEqual([]);
});

it("printed no key or token", () => {
  const all = [...secrets, ...storedSecrets(source.store, source.ids), ...storedSecrets(target.store, target.ids)];
  expect(findLeaks(all, [...transcript, ...commandTranscript].join("\n"))).toEqual([]);
});
