// Every credential vault-gke hands out, replayed against a real OpenBao server
// with the policies the sidecar writes (policies/*.hcl, the provisioner rendered
// for the example's registered cluster, tenant policies rendered from their
// engines), and the attacks the least-privilege issue lists, each expected to be
// refused. The apply credential is obtained the way runners obtain it: a login
// at auth/runner with a Google-style ID token, against a role configured with
// exactly the settings the shared stack ships (applyRoleSettings).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { APPLY_TOKEN_MAX_TTL_SEC } from "../config/schema";
import { applyRoleSettings, GOOGLE_ISSUER } from "../constructs/runner-auth";
import { environmentPolicies } from "../policies";
import { renderTenantPolicy } from "../contract/tenant-policy";
import { exampleEnv } from "./helpers";
import { startDevServer, stopAllBao, type BaoServer } from "./support/bao";
import { GoogleIdTokenIssuer } from "./support/google-id-token";
import { isWrite, tenantStackRequests, type ProviderRequest } from "./support/tenant-stack-requests";
import { vaultRequest, waitFor } from "./support/vault-http";

jest.setTimeout(90_000);

const env = exampleEnv();
const CLUSTER = env.tenancy.clusters[0].name;
const AUDIENCE = "https://vault.example.acme.dev:8200";
const APPLY_SA = env.delivery.applyServiceAccounts[0];

let dir: string;
let server: BaoServer;
let root: string;
const issuer = new GoogleIdTokenIssuer();
const tokens: Record<"plan" | "apply" | "admin" | "breakGlass" | "sidecar" | "a" | "b", string> = {} as never;

const call = (token: string, method: string, path: string, body?: unknown) => vaultRequest(server.addr, server.ca, method, `/v1/${path}`, { token, body });
const status = async (token: string, method: string, path: string, body?: unknown) => (await call(token, method, path, body)).status;
async function capabilities(token: string, path: string): Promise<string[]> {
  const res = await call(token, "POST", "sys/capabilities-self", { paths: [path] });
  return res.body[path] as string[];
}
async function ok(method: string, path: string, body?: unknown): Promise<void> {
  const res = await call(root, method, path, body);
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
}
async function login(jwt: string, role = "provisioner"): Promise<{ status: number; token?: string; body: Record<string, unknown> }> {
  const res = await vaultRequest(server.addr, server.ca, "POST", "/v1/auth/runner/login", { body: { role, jwt } });
  return { status: res.status, token: (res.body.auth as { client_token?: string } | undefined)?.client_token, body: res.body };
}
/** A stand-in for the reviewer service account's token the shared stack stores in a backend's config. */
const REVIEWER_JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6dmF1bHQ6cmV2aWV3ZXIifQ.c2lnbmF0dXJl";
const applySettings = (ttlSec = env.delivery.applyTokenTtl, maxTtlSec = APPLY_TOKEN_MAX_TTL_SEC) =>
  applyRoleSettings({ applyServiceAccounts: env.delivery.applyServiceAccounts, audience: AUDIENCE, policy: "provisioner", ttlSec, maxTtlSec });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "vault-gke-policies-"));
  ({ server, rootToken: root } = await startDevServer(dir));
  const policies = {
    ...environmentPolicies([CLUSTER]),
    "tenant-a": renderTenantPolicy({ tenant: "a", transitKeys: ["k"], databaseRoles: ["app"] }),
    "tenant-b": renderTenantPolicy({ tenant: "b" }),
  };
  for (const [name, policy] of Object.entries(policies)) await ok("PUT", `sys/policies/acl/${name}`, { policy });
  for (const t of ["a", "b"]) await ok("POST", `sys/mounts/tenants/${t}/kv`, { type: "kv", options: { version: "2" } });
  await ok("POST", "sys/mounts/tenants/a/transit", { type: "transit" });
  await ok("POST", "tenants/a/transit/keys/k", {});
  await ok("POST", "tenants/b/kv/data/db", { data: { password: "b-secret" } });
  // The registered cluster's backend, as the shared stack (an admin) configures it.
  await ok("POST", `sys/auth/kubernetes-${CLUSTER}`, { type: "kubernetes" });
  await ok("POST", `auth/kubernetes-${CLUSTER}/config`, {
    kubernetes_host: "https://127.0.0.1:9",
    kubernetes_ca_cert: server.ca.toString(),
    disable_local_ca_jwt: true,
    token_reviewer_jwt: REVIEWER_JWT,
  });
  await ok("POST", `auth/kubernetes-${CLUSTER}/role/a`, {
    bound_service_account_names: ["api"],
    bound_service_account_namespaces: ["a"],
    audience: "vault",
    token_policies: ["tenant-a"],
  });
  await ok("POST", "sys/auth/in-cluster", { type: "kubernetes" });
  // The runners' login, with a test key standing in for Google's published keys.
  await ok("POST", "sys/auth/runner", { type: "jwt" });
  await ok("POST", "auth/runner/config", { jwt_validation_pubkeys: [issuer.publicKeyPem], bound_issuer: GOOGLE_ISSUER });
  await ok("POST", "auth/runner/role/provisioner", applySettings());
  await ok("POST", "auth/runner/role/short-lived", applySettings(3, 3));

  const orphan = async (policies: string[], noDefault = false) => {
    const res = await call(root, "POST", "auth/token/create-orphan", { policies, period: "1h", no_default_policy: noDefault });
    return String((res.body.auth as { client_token: string }).client_token);
  };
  // The plan and sidecar tokens are what the sidecar mints: orphan, periodic, one policy.
  tokens.plan = await orphan(["vault-gke-plan"], true);
  tokens.sidecar = await orphan(["vault-gke-sidecar"], true);
  tokens.admin = await orphan(["admin"]);
  tokens.breakGlass = await orphan(["admin", "break-glass"]);
  tokens.a = await orphan(["tenant-a"]);
  tokens.b = await orphan(["tenant-b"]);
  const applied = await login(issuer.issue({ email: APPLY_SA, audience: AUDIENCE }));
  expect(applied.status).toBe(200);
  tokens.apply = String(applied.token);
});

afterAll(async () => {
  await stopAllBao();
  rmSync(dir, { recursive: true, force: true });
});

/** The attacks the least-privilege issue reproduced, as requests; each must be refused. */
const ATTACKS: { name: string; method: string; path: string; body?: unknown; refusedWith?: number }[] = [
  { name: "(1) enable userpass at kubernetes-backdoor", method: "POST", path: "sys/auth/kubernetes-backdoor", body: { type: "userpass" } },
  { name: "(1) enable any auth method anywhere", method: "POST", path: "sys/auth/ops", body: { type: "approle" } },
  {
    name: '(2) write tenant-x with path "*"',
    method: "PUT",
    path: "sys/policies/acl/tenant-x",
    body: { policy: 'path "*" { capabilities = ["create", "read", "update", "delete", "list", "sudo"] }' },
  },
  {
    name: "(2) rewrite an existing tenant policy",
    method: "PUT",
    path: "sys/policies/acl/tenant-a",
    body: { policy: 'path "tenants/b/*" { capabilities = ["read"] }' },
  },
  {
    name: "(3) point a registered cluster's backend at another API server",
    method: "POST",
    path: `auth/kubernetes-${CLUSTER}/config`,
    body: { kubernetes_host: "https://evil.example" },
  },
  {
    name: "(4) log tenants' secret values in plain text (mount tune)",
    method: "POST",
    path: "sys/mounts/tenants/a/kv/tune",
    body: { audit_non_hmac_response_keys: ["data"] },
  },
  { name: "(4) raise a tenant engine's lease ceiling", method: "POST", path: "sys/mounts/tenants/a/kv/tune", body: { max_lease_ttl: "8760h" } },
  {
    name: "(4) log pods' login JWTs (auth tune)",
    method: "POST",
    path: `sys/mounts/auth/kubernetes-${CLUSTER}/tune`,
    body: { audit_non_hmac_request_keys: ["jwt"] },
  },
  {
    name: "(4) the same through sys/auth/<path>/tune",
    method: "POST",
    path: `sys/auth/kubernetes-${CLUSTER}/tune`,
    body: { audit_non_hmac_request_keys: ["jwt"] },
  },
  { name: "(4) raise an auth backend's token ceiling", method: "POST", path: `sys/mounts/auth/kubernetes-${CLUSTER}/tune`, body: { max_lease_ttl: "8760h" } },
  { name: "(5) make a transit key exportable", method: "PUT", path: "tenants/a/transit/keys/k/config", body: { exportable: true } },
  { name: "(5) allow a plaintext backup", method: "PUT", path: "tenants/a/transit/keys/k/config", body: { allow_plaintext_backup: true } },
  { name: "(5) allow deleting a key", method: "PUT", path: "tenants/a/transit/keys/k/config", body: { deletion_allowed: true } },
  {
    name: "(5) the same settings spelled as strings",
    method: "PUT",
    path: "tenants/a/transit/keys/k/config",
    body: { exportable: "true", deletion_allowed: "1" },
  },
  { name: "(5) create an exportable key", method: "PUT", path: "tenants/a/transit/keys/leaky", body: { type: "aes256-gcm96", exportable: true } },
  { name: "(5) delete a key", method: "DELETE", path: "tenants/a/transit/keys/k" },
  { name: "(5) export a key", method: "GET", path: "tenants/a/transit/export/encryption-key/k" },
  { name: "(5) back up a key", method: "GET", path: "tenants/a/transit/backup/k" },
  { name: "remount a tenant engine elsewhere", method: "POST", path: "sys/remount", body: { from: "tenants/a/kv", to: "tenants/x/kv" } },
  { name: "delete a tenant's KV engine (its data)", method: "DELETE", path: "sys/mounts/tenants/b/kv" },
  {
    name: "(3) swap the keys the runner backend trusts",
    method: "POST",
    path: "auth/runner/config",
    body: {
      jwt_validation_pubkeys: ["-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----"],
      bound_issuer: "https://accounts.google.com",
    },
  },
  {
    name: "(3) point Vault's own cluster backend at another API server",
    method: "POST",
    path: "auth/in-cluster/config",
    body: { kubernetes_host: "https://203.0.113.9" },
  },
  { name: "(3) configure the admins' GCP backend", method: "POST", path: "auth/gcp/config", body: { credentials: "{}" } },
  {
    name: "bind a runner login to another identity",
    method: "PUT",
    path: "auth/runner/role/provisioner",
    body: { bound_claims: { email: ["attacker@example.com"] }, token_policies: ["admin"] },
  },
  {
    name: "add a role on Vault's own cluster backend",
    method: "PUT",
    path: "auth/in-cluster/role/x",
    body: { bound_service_account_names: ["*"], bound_service_account_namespaces: ["*"], token_policies: ["admin"] },
  },
  { name: "write the admin policy", method: "PUT", path: "sys/policies/acl/admin", body: { policy: 'path "*" { capabilities = ["sudo", "update"] }' } },
  { name: "write its own policy", method: "PUT", path: "sys/policies/acl/provisioner", body: { policy: 'path "*" { capabilities = ["sudo", "update"] }' } },
  // Vault answers 400 here: a child token's policies must be a subset of its parent's.
  { name: "create a token with the admin policy", method: "POST", path: "auth/token/create", body: { policies: ["admin"] }, refusedWith: 400 },
  { name: "create an orphan token", method: "POST", path: "auth/token/create-orphan", body: { policies: ["provisioner"], period: "768h" } },
  { name: "mount an engine outside tenants/", method: "POST", path: "sys/mounts/secret", body: { type: "kv" } },
  { name: "take a Raft snapshot", method: "GET", path: "sys/storage/raft/snapshot" },
  // Found in the attacker's review of this design, on a real OpenBao:
  // (Pointing a connection elsewhere without its password is not refusable: README, threat model.)
  {
    name: "create a MySQL connection (its TLS key would be readable)",
    method: "PUT",
    path: "tenants/a/database/config/my",
    body: { plugin_name: "mysql-database-plugin", connection_url: "{{username}}:{{password}}@tcp(127.0.0.1:1)/", password: "x", verify_connection: false },
  },
  { name: "mount a Kubernetes engine where a tenant's KV goes", method: "POST", path: "sys/mounts/tenants/x/kv", body: { type: "kubernetes" } },
  { name: "mount a PKI engine where a tenant's database engine goes", method: "POST", path: "sys/mounts/tenants/x/database", body: { type: "pki" } },
  {
    name: "give a tenant login role a period (tokens outliving the ceiling)",
    method: "PUT",
    path: `auth/kubernetes-${CLUSTER}/role/a`,
    body: {
      bound_service_account_names: ["api"],
      bound_service_account_namespaces: ["a"],
      audience: "vault",
      token_policies: ["tenant-a"],
      token_period: "3600s",
    },
  },
  {
    name: "bind policies through the legacy policies field",
    method: "PUT",
    path: `auth/kubernetes-${CLUSTER}/role/a`,
    body: { bound_service_account_names: ["api"], bound_service_account_namespaces: ["a"], audience: "vault", policies: ["admin"] },
  },
  {
    name: "bind by namespace selector",
    method: "PUT",
    path: `auth/kubernetes-${CLUSTER}/role/a`,
    body: { bound_service_account_names: ["*"], bound_service_account_namespace_selector: "{}", audience: "vault", token_policies: ["tenant-a"] },
  },
  { name: "create a token role", method: "POST", path: "auth/token/roles/ops", body: { allowed_policies: ["admin", "break-glass"], orphan: true } },
  { name: "write to cubbyhole", method: "POST", path: "cubbyhole/stash", body: { blob: "x".repeat(1024) } },
  { name: "store a year-long wrapped blob", method: "POST", path: "sys/wrapping/wrap", body: { blob: "x" } },
];

/** The tenant stack's requests, each with its name in the tests' titles. */
const tenantStack = (filter: (r: ProviderRequest) => boolean = () => true) =>
  tenantStackRequests("c", CLUSTER)
    .filter(filter)
    .map((r) => [r.what, r] as const);

describe("the plan credential (pull-request code can read it)", () => {
  it.each(tenantStack(isWrite))("is refused: %s", async (_, r) => {
    expect(await status(tokens.plan, r.method, r.path, r.body)).toBe(403);
  });

  // A plan refreshes the tenant stack with this credential. Nothing exists yet for tenant c: past
  // the ACL (which answers 403), Vault answers 404, or 400 for a mount.
  it.each(tenantStack((r) => !isWrite(r)))("reads what a refresh reads: %s", async (_, r) => {
    expect([200, 400, 404]).toContain(await status(tokens.plan, r.method, r.path));
  });

  it.each(ATTACKS.map((a) => [a.name, a] as const))("is refused: %s", async (_, a) => {
    expect(await status(tokens.plan, a.method, a.path, a.body)).toBe(403);
  });

  it("cannot even make the provider's child token (plans skip it), nor revoke itself", async () => {
    expect(await status(tokens.plan, "POST", "auth/token/create", { ttl: "20m" })).toBe(403);
    expect(await status(tokens.plan, "PUT", "auth/token/revoke-self", {})).toBe(403);
    expect(await status(tokens.plan, "GET", "auth/token/lookup-self")).toBe(200);
  });

  it("reads what a refresh of the tenant and shared stacks needs", async () => {
    for (const path of [
      "sys/mounts/tenants/a/kv",
      "tenants/a/transit/keys/k",
      `auth/kubernetes-${CLUSTER}/role/a`,
      `auth/kubernetes-${CLUSTER}/config`,
      `sys/mounts/auth/kubernetes-${CLUSTER}`,
      `sys/mounts/auth/kubernetes-${CLUSTER}/tune`,
      "sys/policies/acl/tenant-a",
      "sys/auth",
      "sys/mounts",
    ]) {
      expect([path, await status(tokens.plan, "GET", path)]).toEqual([path, 200]);
    }
    expect(await status(tokens.plan, "LIST", `auth/kubernetes-${CLUSTER}/role`)).toBe(200);
    expect(await status(tokens.plan, "LIST", "tenants/a/transit/keys")).toBe(200);
    expect(await status(tokens.plan, "LIST", "sys/policies/acl")).toBe(200);
  });

  it("reads a backend's configuration but never its reviewer JWT", async () => {
    const res = await call(tokens.plan, "GET", `auth/kubernetes-${CLUSTER}/config`);
    expect(res.status).toBe(200);
    expect((res.body.data as Record<string, unknown>).kubernetes_host).toBe("https://127.0.0.1:9");
    expect(JSON.stringify(res.body)).not.toContain(REVIEWER_JWT);
  });

  it("reads no secret data, credential or key material", async () => {
    expect(await status(tokens.plan, "GET", "tenants/b/kv/data/db")).toBe(403);
    expect(await status(tokens.plan, "LIST", "tenants/b/kv/metadata/")).toBe(403);
    expect(await status(tokens.plan, "POST", "tenants/a/transit/decrypt/k", { ciphertext: "vault:v1:AAAA" })).toBe(403);
    expect(await status(tokens.plan, "GET", "tenants/a/database/creds/app")).toBe(403);
  });
});

describe("the apply credential (a per-run login after approval)", () => {
  it("is a login at auth/runner: provisioner policy only, 15 minutes, never renewable past 20", async () => {
    const self = (await call(tokens.apply, "GET", "auth/token/lookup-self")).body.data as Record<string, unknown>;
    expect(self.policies).toEqual(["provisioner"]);
    expect(self.ttl).toBeLessThanOrEqual(env.delivery.applyTokenTtl);
    expect(self.explicit_max_ttl).toBe(APPLY_TOKEN_MAX_TTL_SEC);
    expect(self.orphan).toBe(true);
    // It cannot even ask for renewal (and the role's explicit max would cap it anyway).
    expect(await status(tokens.apply, "PUT", "auth/token/renew-self", { increment: "768h" })).toBe(403);
  });

  it("is refused to an ID token of another account, for another audience, from another issuer or expired", async () => {
    expect((await login(issuer.issue({ email: "someone@acme-vault-example.iam.gserviceaccount.com", audience: AUDIENCE }))).status).toBe(400);
    expect((await login(issuer.issue({ email: APPLY_SA, audience: "https://other.example" }))).status).toBe(400);
    expect((await login(issuer.issue({ email: APPLY_SA, audience: AUDIENCE, issuer: "https://evil.example" }))).status).toBe(400);
    expect((await login(issuer.issue({ email: APPLY_SA, audience: AUDIENCE, ttlSec: -120 }))).status).toBe(400);
    // A plan runner's identity cannot log in as provisioner either.
    expect((await login(issuer.issue({ email: env.delivery.planServiceAccounts[0], audience: AUDIENCE }))).status).toBe(400);
  });

  it("stops working when its lifetime ends", async () => {
    const res = await login(issuer.issue({ email: APPLY_SA, audience: AUDIENCE }), "short-lived");
    expect(res.status).toBe(200);
    expect(await status(String(res.token), "GET", "sys/mounts/tenants/a/kv")).toBe(200);
    // The provider works with a child token (20 minutes asked): it dies with its parent.
    const child = await call(String(res.token), "POST", "auth/token/create", { ttl: "20m" });
    expect(child.status).toBe(200);
    const childToken = String((child.body.auth as { client_token: string }).client_token);
    await waitFor(
      "the short-lived apply token to expire",
      async () => ((await status(String(res.token), "GET", "sys/mounts/tenants/a/kv")) === 403 ? true : undefined),
      15_000,
      250,
    );
    expect(await status(String(res.token), "GET", "auth/token/lookup-self")).toBe(403);
    await waitFor(
      "its child token to go with it",
      async () => ((await status(childToken, "GET", "sys/mounts/tenants/a/kv")) === 403 ? true : undefined),
      15_000,
      250,
    );
  });

  // In the order the provider makes them: each read follows the write that created what it reads.
  it.each(tenantStack())("makes what the tenant stack needs, or is refused what only an admin may: %s", async (_, r) => {
    const got = await status(tokens.apply, r.method, r.path, r.body);
    if (r.adminOnly) expect(got).toBe(403);
    else if (isWrite(r)) expect([200, 204]).toContain(got);
    else expect(got).toBe(200);
  });

  it.each(ATTACKS.map((a) => [a.name, a] as const))("is refused: %s", async (_, a) => {
    expect(await status(tokens.apply, a.method, a.path, a.body)).toBe(a.refusedWith ?? 403);
  });

  it("reads no secret data", async () => {
    expect(await status(tokens.apply, "GET", "tenants/b/kv/data/db")).toBe(403);
    expect(await status(tokens.apply, "POST", "tenants/a/transit/decrypt/k", { ciphertext: "vault:v1:AAAA" })).toBe(403);
    expect(await status(tokens.apply, "GET", "tenants/a/database/creds/app")).toBe(403);
  });
});

describe("the sidecar's own token", () => {
  it("writes tenant policies and nothing else", async () => {
    expect(await status(tokens.sidecar, "PUT", "sys/policies/acl/tenant-z", { policy: renderTenantPolicy({ tenant: "z" }) })).toBe(204);
    for (const name of ["admin", "provisioner", "vault-gke-sidecar", "default", "ops"])
      expect(await status(tokens.sidecar, "PUT", `sys/policies/acl/${name}`, { policy: 'path "*" { capabilities = ["read"] }' })).toBe(403);
    expect(await status(tokens.sidecar, "GET", "tenants/b/kv/data/db")).toBe(403);
    expect(await status(tokens.sidecar, "POST", "sys/auth/x", { type: "userpass" })).toBe(403);
    expect(await status(tokens.sidecar, "LIST", "tenants/a/transit/keys")).toBe(200);
  });
});

describe("tenant isolation", () => {
  it("lets tenant A use its own KV area and transit key", async () => {
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

  it("lets a tenant renew only its own database leases", async () => {
    // Past the ACL, Vault answers 400 for a lease that does not exist.
    expect(await status(tokens.a, "PUT", "sys/leases/renew", { lease_id: "tenants/a/database/creds/app/abc", increment: 60 })).toBe(400);
    expect(await status(tokens.a, "PUT", "sys/leases/renew", { lease_id: "tenants/b/database/creds/app/abc" })).toBe(403);
    expect(await status(tokens.a, "PUT", "sys/leases/renew", { lease_id: "auth/kubernetes-apps-prod/login/abc" })).toBe(403);
    expect(await status(tokens.a, "PUT", "sys/leases/renew/tenants/b/database/creds/app/abc", {})).toBe(403);
  });

  it("keeps a tenant from changing policies or auth configuration", async () => {
    expect(await status(tokens.a, "PUT", "sys/policies/acl/tenant-a", { policy: 'path "*" { capabilities = ["sudo"] }' })).toBe(403);
    expect(await status(tokens.a, "POST", "sys/auth/kubernetes-evil", { type: "kubernetes" })).toBe(403);
    expect(await status(tokens.a, "POST", `auth/kubernetes-${CLUSTER}/config`, { kubernetes_host: "https://evil" })).toBe(403);
    expect(await status(tokens.a, "POST", "sys/mounts/tenants/a/other", { type: "kv" })).toBe(403);
  });
});

describe("admin and break-glass", () => {
  it("lets an admin run Vault day to day", async () => {
    const a = tokens.admin;
    expect(await status(a, "POST", "sys/auth/userpass-ops", { type: "userpass" })).toBe(204);
    expect(await status(a, "POST", "sys/mounts/ops-kv", { type: "kv", options: { version: "2" } })).toBe(204);
    expect(await status(a, "PUT", "sys/policies/acl/ops", { policy: 'path "ops-kv/*" { capabilities = ["read"] }' })).toBe(204);
    expect(await status(a, "DELETE", "sys/mounts/ops-kv")).toBe(204);
    expect(await capabilities(a, "sys/storage/raft/snapshot")).toEqual(["read"]);
    expect(await capabilities(a, "sys/step-down")).toEqual(expect.arrayContaining(["update", "sudo"]));
  });

  it("keeps what daily operation does not need away from admins", async () => {
    const a = tokens.admin;
    // A token role would mint admin + break-glass tokens with no parent.
    expect(await status(a, "POST", "auth/token/roles/ops", { allowed_policies: ["admin", "break-glass"], orphan: true })).toBe(403);
    expect(await status(a, "POST", "auth/token/create/ops", { policies: ["admin", "break-glass"] })).toBe(403);
    for (const name of ["admin", "break-glass", "provisioner", "generate-root", "default", "vault-gke-plan", "vault-gke-sidecar", "snapshot", "tenant-a"]) {
      expect([name, await status(a, "PUT", `sys/policies/acl/${name}`, { policy: 'path "*" { capabilities = ["sudo", "update"] }' })]).toEqual([name, 403]);
    }
    expect(await capabilities(a, "sys/storage/raft/snapshot-force")).toEqual(["deny"]);
    expect(await capabilities(a, "sys/storage/raft/remove-peer")).toEqual(["deny"]);
    expect(await status(a, "DELETE", "sys/audit/file")).toBe(403);
    expect(await status(a, "PUT", "sys/seal", {})).toBe(403);
    expect(await status(a, "PUT", "sys/rotate", {})).toBe(403);
    // OpenBao answers 405 on the unauthenticated rekey endpoints it disables: ask the ACL itself.
    expect(await capabilities(a, "sys/rekey/init")).toEqual(["deny"]);
    // An orphan token would outlive the admin's 30-minute login (up to 32 days).
    expect(await status(a, "POST", "auth/token/create-orphan", { policies: ["admin"], ttl: "768h" })).toBe(403);
  });

  it("gives break-glass what admins lack, and nothing to read tenants' secrets", async () => {
    const g = tokens.breakGlass;
    expect(await capabilities(g, "sys/storage/raft/snapshot-force")).toEqual(["update"]);
    expect(await capabilities(g, "sys/storage/raft/remove-peer")).toEqual(["update"]);
    expect(await capabilities(g, "sys/policies/acl/admin")).toEqual(expect.arrayContaining(["update"]));
    expect(await status(g, "GET", "tenants/b/kv/data/db")).toBe(403);
    // Break-glass does not go unseen: disabling an audit device takes a root from generate-root.
    expect(await status(g, "DELETE", "sys/audit/file")).toBe(403);
    expect(await capabilities(g, "sys/audit/file")).not.toContain("delete");
    expect(await status(tokens.admin, "GET", "tenants/b/kv/data/db")).toBe(403);
  });
});
