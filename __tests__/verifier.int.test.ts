// What Vault's ACLs cannot refuse, detected, on a real OpenBao: the shared
// stack's access configuration and two tenants applied the way the runners
// apply them (the apply credential replaying the tenant stack's requests; root
// makes the ones the provisioner policy wrongly refuses today), the
// tenant policies rendered by the sidecar's own code with the sidecar's token,
// then `npm run verify` with the plan token: nothing to report. Each test then
// introduces deviations (with root, or with the apply credential where its
// policy cannot refuse them), checks that the verifier reports each one, by
// kind and path, and exits 1, and undoes them: after every test the verifier
// reports nothing again. Tenant logins need a token minted for the role's
// audience (a TokenReview stand-in plays the tenant cluster's API server).
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { planTenantPolicies, readInventory } from "@vault-gke/agent/verify";
import { VaultClient } from "@vault-gke/agent/vault";
import { APPLY_TOKEN_MAX_TTL_SEC } from "../config/schema";
import { applyRoleSettings, GOOGLE_ISSUER } from "../constructs/runner-auth";
import { environmentPolicies } from "../policies";
import { renderTenantPolicy } from "../contract/tenant-policy";
import { commandArgs, exampleData, exampleEnv, merge } from "./helpers";
import { startDevServer, stopAllBao, type BaoServer } from "./support/bao";
import { GoogleIdTokenIssuer } from "./support/google-id-token";
import { tenantStackRequests, type ProviderRequest } from "./support/tenant-stack-requests";
import { startTokenReviewStandIn, type TokenReviewStandIn } from "./support/token-review-stand-in";
import { vaultRequest } from "./support/vault-http";

jest.setTimeout(120_000);

// OpenBao has no GCP auth plugin, so the environment is the OpenBao flavour (no auth/gcp declared).
const overrides = { vault: { distribution: "openbao" } };
const env = exampleEnv(overrides);
const CLUSTER = env.tenancy.clusters[0].name;
const AUDIENCE = "https://vault.example.acme.dev:8200";
/** The runners' apply login role, as the shared stack configures it. */
const applyRole = () =>
  applyRoleSettings({
    applyServiceAccounts: env.delivery.applyServiceAccounts,
    audience: AUDIENCE,
    policy: "provisioner",
    ttlSec: 900,
    maxTtlSec: APPLY_TOKEN_MAX_TTL_SEC,
  });

let dir: string;
let envDir: string;
let server: BaoServer;
let root: string;
let kube: TokenReviewStandIn;
const issuer = new GoogleIdTokenIssuer();
const tokens: { plan?: string; sidecar?: string; apply?: string } = {};

const call = (token: string, method: string, path: string, body?: unknown) => vaultRequest(server.addr, server.ca, method, `/v1/${path}`, { token, body });
async function ok(token: string, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await call(token, method, path, body);
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}
async function orphan(policy: string): Promise<string> {
  return String(((await ok(root, "POST", "auth/token/create-orphan", { policies: [policy], period: "1h" })).auth as { client_token: string }).client_token);
}

/** Renders tenant policies exactly as the sidecar does: its code, its token. */
async function renderTenantPolicies(): Promise<void> {
  const vault = new VaultClient({ address: server.addr, ca: server.ca });
  try {
    const plan = planTenantPolicies(await readInventory(vault, String(tokens.sidecar)));
    for (const [name, text] of Object.entries(plan.write)) await vault.writePolicy(String(tokens.sidecar), name, text);
    for (const name of plan.remove) await vault.deletePolicy(String(tokens.sidecar), name);
  } finally {
    vault.close();
  }
}

/** A tenant stack's request, made the way the runner makes it: with the apply credential. */
async function applyAsRunner(r: ProviderRequest): Promise<void> {
  await ok(String(tokens.apply), r.method, r.path, r.body);
}

/** The tenant stack's request `what`, for a tenant (as the runner sends it). */
function tenantRequest(tenant: string, what: string) {
  const r = tenantStackRequests(tenant, CLUSTER).find((q) => q.what === what);
  if (!r) throw new Error(`the tenant stack makes no request "${what}"`);
  return r;
}

/** Vault's own cluster backend and its snapshot role, as the shared stack configures them. */
async function configureInCluster(): Promise<void> {
  await ok(root, "POST", "sys/auth/in-cluster", { type: "kubernetes" });
  await ok(root, "POST", "auth/in-cluster/config", {
    kubernetes_host: kube.url,
    kubernetes_ca_cert: kube.caPem,
    disable_local_ca_jwt: true,
    token_reviewer_jwt: kube.reviewerJwt,
  });
  await ok(root, "POST", "auth/in-cluster/role/snapshot", {
    bound_service_account_names: ["vault-snapshot"],
    bound_service_account_namespaces: ["vault"],
    audience: "vault",
    token_policies: ["snapshot"],
  });
}

/** "<kind> <path>" of each finding line, sorted. */
function kindsAndPaths(lines: readonly string[]): string[] {
  return lines
    .filter((l) => l.startsWith("finding "))
    .map((l) => {
      const m = /^finding (\S+) (\S+): ./.exec(l);
      if (!m) throw new Error(`not a finding line: ${l}`);
      return `${m[1]} ${m[2]}`;
    })
    .sort();
}

function runVerify(): { status: number | null; lines: string[] } {
  const run = spawnSync(process.execPath, [...commandArgs("verify"), "example"], {
    encoding: "utf8",
    env: {
      PATH: process.env.PATH ?? "",
      VAULT_ADDR: server.addr,
      VAULT_TOKEN: String(tokens.plan),
      VAULT_CACERT: join(dir, "bao", "vault-ca.pem"),
      VAULT_GKE_ENVIRONMENTS: envDir,
    },
  });
  expect(run.stderr).toBe("");
  return { status: run.status, lines: run.stdout.trim().split("\n") };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "vault-gke-verifier-"));
  envDir = join(dir, "environments");
  mkdirSync(envDir);
  ({ server, rootToken: root } = await startDevServer(join(dir, "bao")));
  kube = await startTokenReviewStandIn();
  // The environment the verifier reads: its tenant cluster's API server is the stand-in.
  const data = exampleData() as { tenancy: { clusters: Record<string, unknown>[] } };
  const clusters = data.tenancy.clusters.map((c) => (c.name === CLUSTER ? { ...c, apiServerUrl: kube.url } : c));
  writeFileSync(join(envDir, "example.yaml"), stringify(merge(data, { ...overrides, tenancy: { clusters } })));

  // A dev server mounts secret/ (the verifier rightly reports it); a real one has no such engine.
  await ok(root, "DELETE", "sys/mounts/secret");
  // What the sidecar writes, and what an admin's shared stack configures.
  for (const [name, policy] of Object.entries(environmentPolicies([CLUSTER]))) await ok(root, "PUT", `sys/policies/acl/${name}`, { policy });
  await ok(root, "POST", `sys/auth/kubernetes-${CLUSTER}`, { type: "kubernetes" });
  await ok(root, "POST", `sys/mounts/auth/kubernetes-${CLUSTER}/tune`, { default_lease_ttl: "1800s", max_lease_ttl: "3600s" });
  await ok(root, "POST", `auth/kubernetes-${CLUSTER}/config`, {
    kubernetes_host: kube.url,
    kubernetes_ca_cert: kube.caPem,
    token_reviewer_jwt: kube.reviewerJwt,
    disable_local_ca_jwt: true,
  });
  await configureInCluster();
  await ok(root, "POST", "sys/auth/runner", { type: "jwt" });
  await ok(root, "POST", "auth/runner/config", { jwt_validation_pubkeys: [issuer.publicKeyPem], bound_issuer: GOOGLE_ISSUER });
  await ok(root, "POST", "auth/runner/role/provisioner", applyRole());

  tokens.plan = await orphan("vault-gke-plan");
  tokens.sidecar = await orphan("vault-gke-sidecar");
  const login = await vaultRequest(server.addr, server.ca, "POST", "/v1/auth/runner/login", {
    body: { role: "provisioner", jwt: issuer.issue({ email: env.delivery.applyServiceAccounts[0], audience: AUDIENCE }) },
  });
  tokens.apply = String((login.body.auth as { client_token: string }).client_token);
  // Two tenants, applied the way the runner applies them.
  for (const tenant of ["payments", "search"]) {
    for (const r of tenantStackRequests(tenant, CLUSTER).filter((r) => r.method === "POST" || r.method === "PUT")) await applyAsRunner(r);
  }
  await renderTenantPolicies();
});

afterAll(async () => {
  await stopAllBao();
  await kube?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("the verifier", () => {
  const clean = () => [`0 finding(s) in ${server.addr} for environment example`];

  // Every test undoes what it changed: the next one starts from a Vault that holds what the stacks declare.
  afterEach(() => {
    expect(runVerify()).toEqual({ status: 0, lines: clean() });
  });

  it("reports nothing when Vault holds what the stacks declare", () => {
    const { status, lines } = runVerify();
    expect(lines).toEqual(clean());
    expect(status).toBe(0);
  });

  // The real vault provider (5.6.0) tunes every auth backend it creates with empty key lists, and
  // OpenBao then reports them as [""]: no key at all, not a key named "" logged in plain text.
  it("reads the empty key list the vault provider leaves on its auth backends as no plain-text key", async () => {
    for (const path of ["in-cluster", "runner", `kubernetes-${CLUSTER}`]) {
      await ok(root, "POST", `sys/auth/${path}/tune`, { audit_non_hmac_request_keys: [""], audit_non_hmac_response_keys: [""] });
      const tuned = await ok(root, "GET", `sys/auth/${path}/tune`);
      expect(tuned.audit_non_hmac_request_keys ?? [""]).toEqual([""]);
    }
    expect(runVerify()).toEqual({ status: 0, lines: clean() });
  });

  it('reports a role bound to admin, a tenant policy with path "*" and an undeclared auth method, and exits 1', async () => {
    const role = (await ok(root, "GET", `auth/kubernetes-${CLUSTER}/role/payments`)).data as Record<string, unknown>;
    try {
      await ok(root, "POST", `auth/kubernetes-${CLUSTER}/role/payments`, { ...role, token_policies: ["tenant-payments", "admin"] });
      await ok(root, "PUT", "sys/policies/acl/tenant-search", { policy: 'path "*" { capabilities = ["create", "read", "update", "delete", "list", "sudo"] }' });
      await ok(root, "POST", "sys/auth/kubernetes-backdoor", { type: "userpass" });
      const { status, lines } = runVerify();
      expect(status).toBe(1);
      expect(lines).toEqual([
        "finding undeclared-auth-method auth/kubernetes-backdoor: a userpass auth method no stack declares",
        `finding role-policies auth/kubernetes-${CLUSTER}/role/payments: binds admin, tenant-payments; a tenant's login role binds only tenant-payments`,
        "finding tenant-policy sys/policies/acl/tenant-search: differs from its rendering from the tenant's engines (contract/tenant-policy.ts)",
        `3 finding(s) in ${server.addr} for environment example`,
      ]);
    } finally {
      // The runner's next apply rewrites the role; the sidecar rewrites the policy; an admin removes the backdoor.
      await applyAsRunner(tenantRequest("payments", "create the login role"));
      await renderTenantPolicies();
      await ok(root, "DELETE", "sys/auth/kubernetes-backdoor");
    }
  });

  it("reports what an admin (or a root) could add that no ACL stops: a token role, expiring KV versions, a periodic login role", async () => {
    const role = (await ok(root, "GET", `auth/kubernetes-${CLUSTER}/role/search`)).data as Record<string, unknown>;
    try {
      await ok(root, "POST", "auth/token/roles/ops", { allowed_policies: ["admin"], orphan: true });
      await ok(root, "POST", "tenants/payments/kv/config", { delete_version_after: "1h" });
      await ok(root, "POST", `auth/kubernetes-${CLUSTER}/role/search`, { ...role, token_period: 3600 });
      const { status, lines } = runVerify();
      expect(status).toBe(1);
      expect(lines).toEqual(
        expect.arrayContaining([
          "finding token-role auth/token/roles/ops: a token role no stack declares: it mints tokens with its allowed policies, possibly without a parent",
          "finding kv-version-expiry tenants/payments/kv/config: deletes every secret version 3600s after it is written; tenant stacks keep versions",
          `finding role-period auth/kubernetes-${CLUSTER}/role/search: issues periodic tokens (3600s) that outlive the backend's lease ceiling`,
        ]),
      );
      expect(kindsAndPaths(lines)).toEqual([
        "kv-version-expiry tenants/payments/kv/config",
        `role-period auth/kubernetes-${CLUSTER}/role/search`,
        "token-role auth/token/roles/ops",
      ]);
    } finally {
      await ok(root, "DELETE", "auth/token/roles/ops");
      await applyAsRunner(tenantRequest("payments", "configure KV v2"));
      // The apply credential may not send token_period (not even 0): an admin removes the period.
      await ok(root, "POST", `auth/kubernetes-${CLUSTER}/role/search`, { ...role, token_period: 0 });
    }
  });

  it("reports a tenant engine the apply credential created with plain-text audit keys or a lease ceiling above the environment's (its policy cannot refuse a mount's settings), and exits 1", async () => {
    const apply = String(tokens.apply);
    const kv = tenantRequest("billing", "create the kv engine");
    const db = tenantRequest("billing", "create the database engine");
    const body = (r: typeof kv, config: Record<string, unknown>) => ({ ...r.body, config: { ...(r.body?.config as Record<string, unknown>), ...config } });
    try {
      // Exactly what a tenant stack with these settings would send, with the runner's own credential.
      expect((await call(apply, kv.method, kv.path, body(kv, { audit_non_hmac_request_keys: ["data"], audit_non_hmac_response_keys: ["data"] }))).status).toBe(
        204,
      );
      expect((await call(apply, db.method, db.path, body(db, { max_lease_ttl: `${env.tenancy.maxTokenTtl + 1}s` }))).status).toBe(204);
      const { status, lines } = runVerify();
      expect(kindsAndPaths(lines)).toEqual(["lease-ceiling tenants/billing/database", "plaintext-audit tenants/billing/kv"]);
      expect(lines).toContain(
        "finding plaintext-audit tenants/billing/kv: audit logs these values in plain text: request data, response data; nothing vault-gke declares does",
      );
      expect(status).toBe(1);
    } finally {
      // Removing a tenant's engines is an admin's.
      await ok(root, "DELETE", "sys/mounts/tenants/billing/kv");
      await ok(root, "DELETE", "sys/mounts/tenants/billing/database");
    }
  });

  it("reports each route by which an admin's own token grants itself more than the admin policy, and exits 1", async () => {
    const admin = await orphan("admin");
    const backend = `auth/kubernetes-${CLUSTER}/config`;
    try {
      // A policy of their own behind an auth method of their own.
      await ok(admin, "PUT", "sys/policies/acl/ops", { policy: 'path "*" { capabilities = ["create", "read", "update", "delete", "list", "sudo"] }' });
      await ok(admin, "POST", "sys/auth/ops", { type: "userpass" });
      await ok(admin, "POST", "auth/ops/users/me", { password: "x".repeat(24), token_policies: ["ops"] });
      // Themselves added to a declared role.
      await ok(admin, "POST", "auth/runner/role/provisioner", {
        ...applyRole(),
        bound_claims: { email: [...env.delivery.applyServiceAccounts, "me@acme-vault-example.iam.gserviceaccount.com"] },
      });
      // A tenant cluster's backend trusting another API server (whose tokens it would then accept).
      await ok(admin, "POST", backend, {
        kubernetes_host: "https://203.0.113.9",
        kubernetes_ca_cert: kube.caPem,
        token_reviewer_jwt: kube.reviewerJwt,
        disable_local_ca_jwt: true,
      });
      const { status, lines } = runVerify();
      expect(kindsAndPaths(lines)).toEqual([
        "auth-config auth/kubernetes-apps-prod/config",
        "role-binding auth/runner/role/provisioner",
        "undeclared-auth-method auth/ops",
      ]);
      expect(lines).toContainEqual(expect.stringContaining("me@acme-vault-example.iam.gserviceaccount.com"));
      expect(status).toBe(1);
    } finally {
      await ok(root, "DELETE", "sys/auth/ops");
      await ok(root, "DELETE", "sys/policies/acl/ops");
      await ok(root, "POST", "auth/runner/role/provisioner", applyRole());
      await ok(root, "POST", backend, {
        kubernetes_host: kube.url,
        kubernetes_ca_cert: kube.caPem,
        token_reviewer_jwt: kube.reviewerJwt,
        disable_local_ca_jwt: true,
      });
    }
  });

  it("reports every other deviation an admin (or a root) can make, each by kind and path, and exits 1", async () => {
    const policies = environmentPolicies([CLUSTER]);
    try {
      // Plain-text audit keys and a raised ceiling on a tenant cluster's backend.
      await ok(root, "POST", `sys/auth/kubernetes-${CLUSTER}/tune`, { audit_non_hmac_request_keys: ["jwt"], max_lease_ttl: "8760h" });
      // A tenant's database engine one second above the ceiling.
      await ok(root, "POST", "sys/mounts/tenants/search/database/tune", { max_lease_ttl: `${env.tenancy.maxTokenTtl + 1}s` });
      // A declared auth path holding another type of auth method.
      await ok(root, "DELETE", "sys/auth/in-cluster");
      await ok(root, "POST", "sys/auth/in-cluster", { type: "userpass" });
      // A role no stack declares on a platform backend.
      await ok(root, "POST", "auth/runner/role/ops", { role_type: "jwt", user_claim: "sub", bound_audiences: [AUDIENCE], token_policies: ["admin"] });
      // A tenant login role without an audience.
      await ok(root, "POST", `auth/kubernetes-${CLUSTER}/role/reports`, {
        bound_service_account_names: ["reports-api"],
        bound_service_account_namespaces: ["reports"],
        token_policies: ["tenant-reports"],
      });
      // Platform policies edited and removed.
      await ok(root, "PUT", "sys/policies/acl/snapshot", {
        policy: `${policies.snapshot}\npath "sys/storage/raft/snapshot-force" {\n  capabilities = ["update"]\n}\n`,
      });
      await ok(root, "DELETE", "sys/policies/acl/generate-root");
      // A tenant policy without a tenant.
      await ok(root, "PUT", "sys/policies/acl/tenant-ghost", { policy: renderTenantPolicy({ tenant: "ghost" }) });
      // A database connection with another plugin (verify_connection false: nothing listens).
      await ok(root, "PUT", "tenants/search/database/config/legacy", {
        plugin_name: "mysql-database-plugin",
        connection_url: "{{username}}:{{password}}@tcp(127.0.0.1:1)/",
        username: "vault",
        password: "x",
        verify_connection: false,
      });
      // Engines no stack declares: outside tenants/, an engine name tenants do not have, KV v1 where a tenant's KV v2 goes.
      await ok(root, "POST", "sys/mounts/ops-kv", { type: "kv", options: { version: "2" } });
      await ok(root, "POST", "sys/mounts/tenants/search/pki", { type: "pki" });
      await ok(root, "POST", "sys/mounts/tenants/reports/kv", { type: "kv" });

      const { status, lines } = runVerify();
      expect(kindsAndPaths(lines)).toEqual(
        [
          `plaintext-audit auth/kubernetes-${CLUSTER}`,
          `lease-ceiling auth/kubernetes-${CLUSTER}`,
          "lease-ceiling tenants/search/database",
          "auth-method-type auth/in-cluster",
          "undeclared-role auth/runner/role/ops",
          `role-audience auth/kubernetes-${CLUSTER}/role/reports`,
          "system-policy sys/policies/acl/snapshot",
          "system-policy sys/policies/acl/generate-root",
          "orphan-tenant-policy sys/policies/acl/tenant-ghost",
          "database-plugin tenants/search/database/config/legacy",
          "undeclared-mount ops-kv",
          "undeclared-mount tenants/search/pki",
          "undeclared-mount tenants/reports/kv",
        ].sort(),
      );
      expect(lines.at(-1)).toBe(`13 finding(s) in ${server.addr} for environment example`);
      expect(status).toBe(1);
    } finally {
      await ok(root, "POST", `sys/auth/kubernetes-${CLUSTER}/tune`, { audit_non_hmac_request_keys: [], max_lease_ttl: "3600s" });
      await ok(root, "POST", "sys/mounts/tenants/search/database/tune", {
        max_lease_ttl: (tenantRequest("search", "create the database engine").body?.config as { max_lease_ttl: string }).max_lease_ttl,
      });
      await ok(root, "DELETE", "sys/auth/in-cluster");
      await configureInCluster();
      await ok(root, "DELETE", "auth/runner/role/ops");
      await ok(root, "DELETE", `auth/kubernetes-${CLUSTER}/role/reports`);
      for (const name of ["snapshot", "generate-root"]) await ok(root, "PUT", `sys/policies/acl/${name}`, { policy: policies[name] });
      await ok(root, "DELETE", "sys/policies/acl/tenant-ghost");
      await ok(root, "DELETE", "tenants/search/database/config/legacy");
      for (const path of ["ops-kv", "tenants/search/pki", "tenants/reports/kv"]) await ok(root, "DELETE", `sys/mounts/${path}`);
    }
  });

  it("reports a declared auth method or platform role that is missing, and exits 1", async () => {
    try {
      await ok(root, "DELETE", "sys/auth/in-cluster");
      await ok(root, "DELETE", "auth/runner/role/provisioner");
      const { status, lines } = runVerify();
      expect(kindsAndPaths(lines)).toEqual(["missing-auth-method auth/in-cluster", "missing-role auth/runner/role/provisioner"]);
      expect(status).toBe(1);
    } finally {
      await configureInCluster();
      await ok(root, "POST", "auth/runner/role/provisioner", applyRole());
    }
  });

  it("says when Vault cannot be read, with exit 3, and when the token is missing, with exit 2", () => {
    const bad = spawnSync(process.execPath, [...commandArgs("verify"), "example"], {
      encoding: "utf8",
      env: {
        PATH: process.env.PATH ?? "",
        VAULT_ADDR: server.addr,
        VAULT_TOKEN: "not-a-token",
        VAULT_CACERT: join(dir, "bao", "vault-ca.pem"),
        VAULT_GKE_ENVIRONMENTS: envDir,
      },
    });
    expect(bad.status).toBe(3);
    expect(bad.stderr).toMatch(/^verify: reading https:\/\/127\.0\.0\.1:\d+ failed: vault read sys\/auth: HTTP 403/);
    const none = spawnSync(process.execPath, [...commandArgs("verify"), "example"], {
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "", VAULT_GKE_ENVIRONMENTS: envDir },
    });
    expect(none.status).toBe(2);
    expect(none.stderr).toContain("VAULT_TOKEN is not set");
  });
});

describe("tenant logins", () => {
  const login = (jwt: string) => vaultRequest(server.addr, server.ca, "POST", `/v1/auth/kubernetes-${CLUSTER}/login`, { body: { role: "search", jwt } });

  it("accept a projected token minted for the role's audience, and grant the tenant's policy only", async () => {
    const res = await login(kube.issue({ namespace: "search", serviceAccount: "search-api", audiences: ["vault"] }));
    expect(res.status).toBe(200);
    expect((res.body.auth as { token_policies: string[] }).token_policies).toEqual(["default", "tenant-search"]);
  });

  it("refuse a token minted for another audience (replayed from another service), or for the API server only", async () => {
    for (const audiences of [["https://payments.example.internal"], ["https://kubernetes.default.svc.cluster.local"]]) {
      const res = await login(kube.issue({ namespace: "search", serviceAccount: "search-api", audiences }));
      expect([audiences[0], res.status]).toEqual([audiences[0], 403]);
    }
  });

  it("refuse another namespace's service account", async () => {
    expect((await login(kube.issue({ namespace: "payments", serviceAccount: "search-api", audiences: ["vault"] }))).status).toBe(403);
  });
});

it("never prints the token it reads with, on success or with findings", async () => {
  expect(JSON.stringify(runVerify())).not.toContain(String(tokens.plan));
  await ok(root, "POST", "sys/auth/leak-check", { type: "userpass" });
  try {
    const run = runVerify();
    expect(run.status).toBe(1);
    expect(JSON.stringify(run)).not.toContain(String(tokens.plan));
  } finally {
    await ok(root, "DELETE", "sys/auth/leak-check");
  }
});
