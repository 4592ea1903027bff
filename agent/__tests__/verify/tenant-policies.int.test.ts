// The sidecar renders each tenant's policy from the tenant's engines with its
// own token (no runner credential writes a policy), writes it back when it was
// edited, removes it with the tenant's engines, and runs the verifier on a
// schedule, showing its findings on its endpoint and in its metrics.
import { generateRoot } from "../../src/vault/generate-root";
import { VaultClient } from "../../src/vault/client";
import { renderTenantPolicy } from "../../../contract/tenant-policy";
import { DISTRIBUTION } from "../../../__tests__/support/bao";
import { vaultRequest, waitFor } from "../../../__tests__/support/vault-http";
import { createWorld, type World } from "../support/fixture";
import { waitForConverged } from "../support/converged";
import { Sidecar, sidecarEndpoint, stopAllSidecars } from "../support/sidecar";

jest.setTimeout(120_000);

let world: World;
let sidecar: Sidecar;
let root: string;
const json = (b: Buffer | undefined) => JSON.parse(String(b)) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

beforeAll(async () => {
  world = await createWorld({ replicas: 1, seal: "shamir" });
  sidecar = new Sidecar(world.sidecarEnv(0, { TENANT_POLICY_SYNC_SEC: "1", VERIFY_INTERVAL_SEC: "1" }));
  await waitForConverged(world);
  const server = world.cluster.servers[0];
  const client = new VaultClient({ address: server.addr, ca: server.ca });
  root = await generateRoot(
    client,
    json(world.store.latest(world.ids.initResponse)).response.keys_base64,
    3,
    json(world.store.latest(world.ids.rootToken)).generateRootToken,
  );
  client.close();
});
afterAll(async () => {
  await stopAllSidecars();
  await world.teardown();
});

const call = (method: string, path: string, body?: unknown) =>
  vaultRequest(world.cluster.servers[0].addr, world.cluster.ca, method, `/v1/${path}`, { token: root, body });
const policy = async (name: string) => ((await call("GET", `sys/policies/acl/${name}`)).body.data as { policy?: string } | undefined)?.policy;

it("writes tenant-<t> from the tenant's engines once they exist", async () => {
  await call("POST", "sys/mounts/tenants/orders/kv", { type: "kv", options: { version: "2" } });
  await call("POST", "sys/mounts/tenants/orders/transit", { type: "transit" });
  await call("POST", "tenants/orders/transit/keys/card", {});
  const expected = renderTenantPolicy({ tenant: "orders", transitKeys: ["card"] });
  await waitFor("tenant-orders", async () => ((await policy("tenant-orders")) === expected ? true : undefined), 30_000, 200);
  // The log line can reach us a moment after the write Vault already shows.
  await waitFor(
    "the write's log line",
    async () => sidecar.lines.some((l) => l.msg === "tenant policy written" && l.policy === "tenant-orders" && l.was === "absent") || undefined,
    5_000,
    50,
  );
});

it("renders it again when the engines change", async () => {
  await call("POST", "tenants/orders/transit/keys/refund", {});
  const expected = renderTenantPolicy({ tenant: "orders", transitKeys: ["card", "refund"] });
  await waitFor("tenant-orders with the new key", async () => ((await policy("tenant-orders")) === expected ? true : undefined), 30_000, 200);
});

it("writes it back when someone edits it to reach further", async () => {
  await call("PUT", "sys/policies/acl/tenant-orders", { policy: 'path "*" { capabilities = ["read"] }' });
  const expected = renderTenantPolicy({ tenant: "orders", transitKeys: ["card", "refund"] });
  await waitFor("tenant-orders restored", async () => ((await policy("tenant-orders")) === expected ? true : undefined), 30_000, 200);
});

it("removes it with the tenant's engines", async () => {
  for (const engine of ["kv", "transit"]) await call("DELETE", `sys/mounts/tenants/orders/${engine}`);
  await waitFor("tenant-orders removed", async () => ((await policy("tenant-orders")) === undefined ? true : undefined), 30_000, 200);
  await waitFor(
    "the removal's log line",
    async () => sidecar.lines.some((l) => l.msg === "tenant policy removed: its tenant has no engines" && l.policy === "tenant-orders") || undefined,
    5_000,
    50,
  );
});

it("runs the verifier on a schedule and shows its findings on the endpoint and in the metrics", async () => {
  // The shared stack is not applied in this world: the declared auth methods are missing.
  await call("POST", "sys/auth/backdoor", { type: "userpass" });
  const endpoint = await sidecarEndpoint(sidecar);
  const findings = await waitFor(
    "the verifier to see the backdoor",
    async () => {
      const state = (await (await fetch(`${endpoint}/state`)).json()) as { verifier?: { findings: { kind: string; path: string }[] } };
      return state.verifier?.findings.some((f) => f.path === "auth/backdoor") ? state.verifier.findings : undefined;
    },
    30_000,
    200,
  );
  expect(findings.map((f) => `${f.kind} ${f.path}`).sort()).toEqual([
    // HashiCorp Vault's environments also declare GCP auth for admins (OpenBao ships no GCP plugin); this world enables none.
    ...(DISTRIBUTION === "vault" ? ["missing-auth-method auth/gcp"] : []),
    "missing-auth-method auth/in-cluster",
    "missing-auth-method auth/kubernetes-apps-prod",
    "missing-auth-method auth/runner",
    "undeclared-auth-method auth/backdoor",
  ]);
  const metrics = await (await fetch(`${endpoint}/metrics`)).text();
  expect(metrics).toContain('vault_gke_verifier_findings{kind="undeclared-auth-method"} 1');
  await sidecar.waitForLine(
    (l) => l.msg === "verifier finding: auth/backdoor a userpass auth method no stack declares" && l.level === "warn",
    "the finding's warning",
    5_000,
  );
});
