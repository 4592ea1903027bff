// Single OpenBao node, Shamir seal: from a fresh server to a configured vault
// with no human step, and back from a restart.
import { generateRoot } from "../../src/vault/generate-root";
import { VaultClient } from "../../src/vault/client";
import { DISTRIBUTION } from "../../../__tests__/support/bao";
import { vaultRequest, waitFor } from "../../../__tests__/support/vault-http";
import { health } from "../../../__tests__/support/raft-cluster";
import { createWorld, type World } from "../support/fixture";
import { Sidecar, stopAllSidecars } from "../support/sidecar";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { transcript } from "../support/sidecar";
import { findLeaks, storedSecrets } from "../support/leak-scan";

jest.setTimeout(180_000);

let world: World;
let sidecar: Sidecar;

beforeAll(async () => {
  world = await createWorld({ replicas: 1, seal: "shamir" });
});
afterAll(async () => {
  await stopAllSidecars();
  await world.teardown();
});

const json = (b: Buffer | undefined) => JSON.parse(String(b)) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

it("initializes, unseals, audits, writes policies and stores a read-only plan token and its own", async () => {
  const server = world.cluster.servers[0];
  sidecar = new Sidecar(world.sidecarEnv(0));
  await sidecar.waitForLog("plan token created and stored", 120_000);
  await sidecar.waitForLog("root token revoked");

  expect((await health(server)).status).toBe(200);
  expect(world.store.versions(world.ids.initResponse)).toHaveLength(1);
  const init = json(world.store.latest(world.ids.initResponse));
  expect(init.format).toBe("vault-gke/init-response/v1");
  expect(init.response.keys_base64).toHaveLength(5);
  expect(json(world.store.latest(world.ids.canary)).kind).toBe("initialized");

  // The initial root token is revoked, and the store says so.
  expect(json(world.store.latest(world.ids.rootToken)).revoked).toBe(true);
  const rootCheck = await vaultRequest(server.addr, server.ca, "GET", "/v1/auth/token/lookup-self", { token: init.response.root_token });
  expect(rootCheck.status).toBe(403);

  // The plan token works, carries only the read-only plan policy as written from policies/, and can write nothing.
  const plan = json(world.store.latest(world.ids.planToken));
  expect(plan.format).toBe("vault-gke/plan-token/v1");
  const self = await vaultRequest(server.addr, server.ca, "GET", "/v1/auth/token/lookup-self", { token: plan.token });
  expect(self.status).toBe(200);
  // Without the default policy: it cannot write even its own cubbyhole, nor revoke itself.
  expect(self.body.data).toMatchObject({ policies: ["vault-gke-plan"], orphan: true, period: 3600, renewable: true });
  expect((await vaultRequest(server.addr, server.ca, "POST", "/v1/cubbyhole/x", { token: plan.token, body: { a: 1 } })).status).toBe(403);
  expect((await vaultRequest(server.addr, server.ca, "PUT", "/v1/sys/policies/acl/tenant-a", { token: plan.token, body: { policy: "" } })).status).toBe(403);
  // The sidecar's own token carries its policy and the digest of the policies it wrote.
  const own = json(world.store.latest(world.ids.sidecarToken));
  expect(own).toMatchObject({ format: "vault-gke/sidecar-token/v1", policiesSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
  const ownSelf = await vaultRequest(server.addr, server.ca, "GET", "/v1/auth/token/lookup-self", { token: own.token });
  expect(ownSelf.body.data).toMatchObject({ policies: ["vault-gke-sidecar"], orphan: true, period: 3600 });

  // Audit devices (declared in the shipped OpenBao configuration) and the admin policy, checked with a short-lived root.
  const client = new VaultClient({ address: server.addr, ca: server.ca });
  const root = await generateRoot(client, init.response.keys_base64, 3, json(world.store.latest(world.ids.rootToken)).generateRootToken);
  try {
    expect(Object.keys(await client.listAuditDevices(root)).sort()).toEqual(["file/", "stdout/"]);
    const admin = await vaultRequest(server.addr, server.ca, "GET", "/v1/sys/policies/acl/admin", { token: root });
    expect((admin.body.data as { policy: string }).policy).toBe(readFileSync(join(world.policyDir, "admin.hcl"), "utf8"));
    // The provisioner policy as the vault stack renders it: one rule per registered cluster.
    const provisioner = await vaultRequest(server.addr, server.ca, "GET", "/v1/sys/policies/acl/provisioner", { token: root });
    expect((provisioner.body.data as { policy: string }).policy).toContain('path "auth/kubernetes-apps-prod/role/+"');
  } finally {
    await client.revokeSelf(root);
    client.close();
  }
  if (DISTRIBUTION === "vault") {
    // HashiCorp Vault declares no audit device in its configuration: the sidecar enables both through the API.
    const enabled = sidecar.lines.filter((l) => l.msg === "audit device enabled through the API").map((l) => l.device);
    expect(enabled).toEqual(["file/", "stdout/"]);
  } else {
    const audit = sidecar.lines.find((l) => l.msg === "audit devices active");
    expect(audit).toMatchObject({ devices: ["file/", "stdout/"], source: "server configuration" });
  }
});

it("unseals the server from the store after it restarts sealed", async () => {
  const server = world.cluster.servers[0];
  const activeLines = () => sidecar.lines.filter((l) => l.msg === "vault state" && l.state === "active");
  const activeBefore = activeLines().length;
  await server.stop();
  await server.start();
  await waitFor("the sidecar to unseal the restarted server", async () => ((await health(server)).status === 200 ? true : undefined), 60_000, 100);
  await waitFor(
    "the second unseal's log line",
    async () => (sidecar.lines.filter((l) => l.msg === "unsealed with the stored keys").length >= 2 ? true : undefined),
    5_000,
    50,
  );
  // Once back, the state line names the version, HA mode, leader and the Raft peers.
  const back = await waitFor("a new state line for the active server", async () => (activeLines().length > activeBefore ? activeLines().at(-1) : undefined));
  expect(back).toMatchObject({
    initialized: true,
    sealed: false,
    haEnabled: true,
    isLeader: true,
    raftPeers: ["vault-0 (leader)"],
    version: expect.any(String),
  });
  // Nothing was initialized twice.
  expect(world.store.versions(world.ids.initResponse)).toHaveLength(1);
});

it("stops on SIGTERM during a wait with exit code 0", async () => {
  await waitFor("a steady wait", async () => (sidecar.output.endsWith("\n") ? true : undefined));
  const sent = Date.now();
  const exit = await sidecar.stop("SIGTERM");
  const latencyMs = Date.now() - sent;
  expect(exit).toEqual({ code: 0, signal: null });
  expect(latencyMs).toBeLessThan(5000);
  expect(sidecar.lines.at(-1)?.msg).toBe("stopped");
});

it("printed no key, token or init response", () => {
  const secrets = storedSecrets(world.store, world.ids);
  expect(secrets.length).toBeGreaterThanOrEqual(9); // 5 keys (x2 encodings), root, plan, sidecar, generate-root tokens
  expect(transcript.join("").length).toBeGreaterThan(1000);
  expect(findLeaks(secrets, transcript.join(""))).toEqual([]);
});
