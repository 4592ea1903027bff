// The admin, provisioner and rendered tenant policies, loaded into a real
// OpenBao server and exercised with real requests (or sys/capabilities-self
// where a real request would change the server under test).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderTenantPolicy } from "../constructs/tenant-policy";
import { loadPolicies } from "../policies";
import { startDevServer, stopAllBao, type BaoServer } from "./support/bao";
import { vaultRequest } from "./support/vault-http";

jest.setTimeout(60_000);

let dir: string;
let server: BaoServer;
let root: string;
const tokens: Record<string, string> = {};

const call = (token: string, method: string, path: string, body?: unknown) => vaultRequest(server.addr, server.ca, method, `/v1/${path}`, { token, body });
const status = async (token: string, method: string, path: string, body?: unknown) => (await call(token, method, path, body)).status;
async function capabilities(token: string, path: string): Promise<string[]> {
  const res = await call(token, "POST", "sys/capabilities-self", { paths: [path] });
  return res.body[path] as string[];
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "vault-gke-policies-"));
  ({ server, rootToken: root } = await startDevServer(dir));
  const policies = { ...loadPolicies(), "tenant-a": renderTenantPolicy({ tenant: "a", transitKeys: ["k"], databaseRole: "app" }), "tenant-b": renderTenantPolicy({ tenant: "b" }) };
  for (const [name, policy] of Object.entries(policies)) expect(await status(root, "PUT", `sys/policies/acl/${name}`, { policy })).toBe(204);
  for (const t of ["a", "b"]) expect(await status(root, "POST", `sys/mounts/tenants/${t}/kv`, { type: "kv", options: { version: "2" } })).toBe(204);
  await call(root, "POST", "sys/mounts/tenants/a/transit", { type: "transit" });
  await call(root, "POST", "tenants/a/transit/keys/k", {});
  expect(await status(root, "POST", "tenants/b/kv/data/db", { data: { password: "b-secret" } })).toBe(200);
  for (const [name, policies] of Object.entries({ a: ["tenant-a"], b: ["tenant-b"], provisioner: ["provisioner"], admin: ["admin"] })) {
    const res = await call(root, "POST", "auth/token/create", { policies, ttl: "10m" });
    tokens[name] = String((res.body.auth as { client_token: string }).client_token);
  }
});

afterAll(async () => {
  await stopAllBao();
  rmSync(dir, { recursive: true, force: true });
});

describe("tenant isolation", () => {
  it("lets tenant A use its own KV area", async () => {
    expect(await status(tokens.a, "POST", "tenants/a/kv/data/app", { data: { k: "v" } })).toBe(200);
    expect((await call(tokens.a, "GET", "tenants/a/kv/data/app")).body.data).toMatchObject({ data: { k: "v" } });
    expect(await status(tokens.a, "LIST", "tenants/a/kv/metadata/")).toBe(200);
    expect(await status(tokens.a, "POST", "tenants/a/transit/encrypt/k", { plaintext: Buffer.from("x").toString("base64") })).toBe(200);
  });

  it("keeps tenant A from reading, listing or writing tenant B's secrets", async () => {
    expect(await status(tokens.a, "GET", "tenants/b/kv/data/db")).toBe(403);
    expect(await status(tokens.a, "LIST", "tenants/b/kv/metadata/")).toBe(403);
    expect(await status(tokens.a, "POST", "tenants/b/kv/data/db", { data: { password: "stolen" } })).toBe(403);
    expect(await status(tokens.a, "DELETE", "tenants/b/kv/metadata/db")).toBe(403);
    expect(await status(tokens.b, "POST", "tenants/a/transit/encrypt/k", { plaintext: "eA==" })).toBe(403);
  });

  it("keeps a tenant from changing policies or auth configuration", async () => {
    expect(await status(tokens.a, "PUT", "sys/policies/acl/tenant-a", { policy: 'path "*" { capabilities = ["sudo"] }' })).toBe(403);
    expect(await status(tokens.a, "POST", "sys/auth/kubernetes-evil", { type: "kubernetes" })).toBe(403);
    expect(await status(tokens.a, "POST", "auth/kubernetes-apps/config", { kubernetes_host: "https://evil" })).toBe(403);
    expect(await status(tokens.a, "POST", "sys/mounts/tenants/a/other", { type: "kv" })).toBe(403);
  });
});

describe("provisioner", () => {
  it("manages tenant auth methods, mounts, engines and tenant policies", async () => {
    const p = tokens.provisioner;
    expect(await status(p, "POST", "sys/auth/kubernetes-apps", { type: "kubernetes" })).toBe(204);
    const config = await call(p, "POST", "auth/kubernetes-apps/config", { kubernetes_host: "https://10.40.0.2", kubernetes_ca_cert: server.ca.toString(), token_reviewer_jwt: "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", disable_local_ca_jwt: true });
    expect([config.status, config.body.errors]).toEqual([204, undefined]);
    expect(await status(p, "POST", "auth/kubernetes-apps/role/c", { bound_service_account_names: ["api"], bound_service_account_namespaces: ["c"], token_policies: ["tenant-c"], token_ttl: "30m" })).toBe(204);
    expect(await status(p, "POST", "sys/mounts/tenants/c/kv", { type: "kv", options: { version: "2" } })).toBe(204);
    expect(await status(p, "POST", "tenants/c/kv/config", { max_versions: 10 })).toBe(204);
    expect(await status(p, "POST", "sys/mounts/tenants/c/transit", { type: "transit" })).toBe(204);
    expect([200, 204]).toContain(await status(p, "POST", "tenants/c/transit/keys/orders", { exportable: false }));
    expect(await status(p, "POST", "sys/mounts/tenants/c/database", { type: "database" })).toBe(204);
    expect(await status(p, "PUT", "sys/policies/acl/tenant-c", { policy: renderTenantPolicy({ tenant: "c" }) })).toBe(204);
    // The GCP auth backend and its admin role (OpenBao ships no GCP plugin to enable here).
    expect(await capabilities(p, "sys/auth/gcp")).toEqual(expect.arrayContaining(["create", "update", "sudo"]));
    expect(await capabilities(p, "auth/gcp/role/admin")).toEqual(expect.arrayContaining(["create", "update"]));
    // The child token the Vault provider creates for each run.
    const child = await call(p, "POST", "auth/token/create", { policies: ["provisioner"], ttl: "20m" });
    expect(child.status).toBe(200);
  });

  it("cannot read any tenant's secret data", async () => {
    const p = tokens.provisioner;
    expect(await status(p, "GET", "tenants/b/kv/data/db")).toBe(403);
    expect(await status(p, "LIST", "tenants/b/kv/metadata/")).toBe(403);
    expect(await status(p, "POST", "tenants/a/transit/decrypt/k", { ciphertext: "vault:v1:AAAA" })).toBe(403);
    expect(await capabilities(p, "tenants/a/database/creds/app")).toEqual(["deny"]);
  });

  it("fails to rewrite its own policy, the admin policy or the generate-root policy", async () => {
    const p = tokens.provisioner;
    const everything = 'path "*" { capabilities = ["create", "read", "update", "delete", "list", "sudo"] }';
    expect(await status(p, "PUT", "sys/policies/acl/provisioner", { policy: everything })).toBe(403);
    expect(await status(p, "PUT", "sys/policies/acl/admin", { policy: everything })).toBe(403);
    expect(await status(p, "PUT", "sys/policies/acl/generate-root", { policy: everything })).toBe(403);
    expect(await status(p, "POST", "auth/token/create", { policies: ["admin"] })).not.toBe(200);
    expect(await status(p, "POST", "sys/mounts/secret", { type: "kv" })).toBe(403);
  });
});

describe("admin", () => {
  it("manages auth methods, mounts and policies", async () => {
    const a = tokens.admin;
    expect(await status(a, "POST", "sys/auth/userpass-ops", { type: "userpass" })).toBe(204);
    expect(await status(a, "POST", "sys/mounts/ops-kv", { type: "kv", options: { version: "2" } })).toBe(204);
    expect(await status(a, "PUT", "sys/policies/acl/ops", { policy: 'path "ops-kv/*" { capabilities = ["read"] }' })).toBe(204);
    expect(await status(a, "DELETE", "sys/mounts/ops-kv")).toBe(204);
  });

  it("may take Raft snapshots and step down", async () => {
    const a = tokens.admin;
    expect(await capabilities(a, "sys/storage/raft/snapshot")).toEqual(expect.arrayContaining(["read", "update"]));
    expect(await capabilities(a, "sys/storage/raft/snapshot-force")).toContain("update");
    expect(await capabilities(a, "sys/step-down")).toEqual(expect.arrayContaining(["update", "sudo"]));
  });

  it("has no standing read of tenants' secret data", async () => {
    expect(await status(tokens.admin, "GET", "tenants/b/kv/data/db")).toBe(403);
  });
});
