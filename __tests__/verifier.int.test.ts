// What Vault's ACLs cannot refuse, detected, on a real OpenBao: the shared
// stack's access configuration and two tenants applied the way the runners
// apply them (the apply credential replaying the tenant stack's requests), the
// tenant policies rendered by the sidecar's own code with the sidecar's token,
// then `npm run verify` with the plan token: nothing to report. After a role is
// bound to admin, a tenant policy gets path "*" and an auth method nobody
// declared appears, it reports each of the three and exits 1. Tenant logins
// need a token minted for the role's audience (a TokenReview stand-in plays the
// tenant cluster's API server).
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { readInventory } from "../bootstrap/src/inventory";
import { planTenantPolicies } from "../bootstrap/src/tenant-policies";
import { VaultClient } from "../bootstrap/src/vault-client";
import { APPLY_TOKEN_MAX_TTL_SEC } from "../config/schema";
import { applyRoleSettings, GOOGLE_ISSUER } from "../constructs/runner-auth";
import { environmentPolicies } from "../policies";
import { exampleData, exampleEnv, merge, ROOT } from "./helpers";
import { startDevServer, stopAllBao, type BaoServer } from "./support/bao";
import { GoogleIdTokenIssuer } from "./support/google-id-token";
import { tenantStackRequests } from "./support/tenant-stack-requests";
import { startTokenReviewStandIn, type TokenReviewStandIn } from "./support/token-review-stand-in";
import { vaultRequest } from "./support/vault-http";

jest.setTimeout(120_000);

// OpenBao has no GCP auth plugin, so the environment is the OpenBao flavour (no auth/gcp declared).
const overrides = { vault: { distribution: "openbao" } };
const env = exampleEnv(overrides);
const CLUSTER = env.tenancy.clusters[0].name;
const AUDIENCE = "https://vault.example.acme.dev:8200";

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

function runVerify(): { status: number | null; lines: string[] } {
  const run = spawnSync(process.execPath, [join(ROOT, "dist", "verify.js"), "example"], {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", VAULT_ADDR: server.addr, VAULT_TOKEN: String(tokens.plan), VAULT_CACERT: join(dir, "bao", "vault-ca.pem"), VAULT_GKE_ENVIRONMENTS: envDir },
  });
  expect(run.stderr).toBe("");
  return { status: run.status, lines: run.stdout.trim().split("\n") };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "vault-gke-verifier-"));
  envDir = join(dir, "environments");
  mkdirSync(envDir);
  writeFileSync(join(envDir, "example.yaml"), stringify(merge(exampleData(), overrides)));
  execFileSync("npx", ["esbuild", "scripts/verify.ts", "--bundle", "--platform=node", "--packages=external", "--outfile=dist/verify.js", "--log-level=warning"], { cwd: ROOT });
  ({ server, rootToken: root } = await startDevServer(join(dir, "bao")));
  kube = await startTokenReviewStandIn();

  // A dev server mounts secret/ (the verifier rightly reports it); a real one has no such engine.
  await ok(root, "DELETE", "sys/mounts/secret");
  // What the sidecar writes, and what an admin's shared stack configures.
  for (const [name, policy] of Object.entries(environmentPolicies([CLUSTER]))) await ok(root, "PUT", `sys/policies/acl/${name}`, { policy });
  await ok(root, "POST", `sys/auth/kubernetes-${CLUSTER}`, { type: "kubernetes" });
  await ok(root, "POST", `sys/mounts/auth/kubernetes-${CLUSTER}/tune`, { default_lease_ttl: "1800s", max_lease_ttl: "3600s" });
  await ok(root, "POST", `auth/kubernetes-${CLUSTER}/config`, { kubernetes_host: kube.url, kubernetes_ca_cert: kube.caPem, token_reviewer_jwt: kube.reviewerJwt, disable_local_ca_jwt: true });
  await ok(root, "POST", "sys/auth/in-cluster", { type: "kubernetes" });
  await ok(root, "POST", "auth/in-cluster/config", { kubernetes_host: kube.url, kubernetes_ca_cert: kube.caPem, disable_local_ca_jwt: true, token_reviewer_jwt: kube.reviewerJwt });
  await ok(root, "POST", "auth/in-cluster/role/snapshot", { bound_service_account_names: ["vault-snapshot"], bound_service_account_namespaces: ["vault"], audience: "vault", token_policies: ["snapshot"] });
  await ok(root, "POST", "sys/auth/runner", { type: "jwt" });
  await ok(root, "POST", "auth/runner/config", { jwt_validation_pubkeys: [issuer.publicKeyPem], bound_issuer: GOOGLE_ISSUER });
  await ok(root, "POST", "auth/runner/role/provisioner", applyRoleSettings({ applyServiceAccounts: env.delivery.applyServiceAccounts, audience: AUDIENCE, policy: "provisioner", ttlSec: 900, maxTtlSec: APPLY_TOKEN_MAX_TTL_SEC }));

  tokens.plan = await orphan("vault-gke-plan");
  tokens.sidecar = await orphan("vault-gke-sidecar");
  const login = await vaultRequest(server.addr, server.ca, "POST", "/v1/auth/runner/login", { body: { role: "provisioner", jwt: issuer.issue({ email: env.delivery.applyServiceAccounts[0], audience: AUDIENCE }) } });
  tokens.apply = String((login.body.auth as { client_token: string }).client_token);
  // Two tenants, applied the way the runner applies them.
  for (const tenant of ["payments", "search"]) {
    for (const r of tenantStackRequests(tenant, CLUSTER).filter((r) => r.method !== "DELETE")) await ok(tokens.apply, r.method, r.path, r.body);
  }
  await renderTenantPolicies();
});

afterAll(async () => {
  await stopAllBao();
  await kube?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("the verifier", () => {
  it("reports nothing when Vault holds what the stacks declare", () => {
    const { status, lines } = runVerify();
    expect(lines).toEqual([`0 finding(s) in ${server.addr} for environment example`]);
    expect(status).toBe(0);
  });

  it("reports a role bound to admin, a tenant policy with path \"*\" and an undeclared auth method, and exits 1", async () => {
    const role = (await ok(root, "GET", `auth/kubernetes-${CLUSTER}/role/payments`)).data as Record<string, unknown>;
    await ok(root, "POST", `auth/kubernetes-${CLUSTER}/role/payments`, { ...role, token_policies: ["tenant-payments", "admin"] });
    await ok(root, "PUT", "sys/policies/acl/tenant-search", { policy: 'path "*" { capabilities = ["create", "read", "update", "delete", "list", "sudo"] }' });
    await ok(root, "POST", "sys/auth/kubernetes-backdoor", { type: "userpass" });
    const { status, lines } = runVerify();
    expect(status).toBe(1);
    expect(lines).toEqual([
      "finding undeclared-auth-method auth/kubernetes-backdoor: a userpass auth method no stack declares",
      `finding role-policies auth/kubernetes-${CLUSTER}/role/payments: binds admin, tenant-payments; a tenant's login role binds only tenant-payments`,
      "finding tenant-policy sys/policies/acl/tenant-search: differs from its rendering from the tenant's engines (policies/tenant-policy.ts)",
      `3 finding(s) in ${server.addr} for environment example`,
    ]);
  });

  it("reports what an admin (or a root) could add that no ACL stops: a token role, expiring KV versions, a periodic login role", async () => {
    await ok(root, "POST", "auth/token/roles/ops", { allowed_policies: ["admin"], orphan: true });
    await ok(root, "POST", "tenants/payments/kv/config", { delete_version_after: "1h" });
    const role = (await ok(root, "GET", `auth/kubernetes-${CLUSTER}/role/search`)).data as Record<string, unknown>;
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
  });

  it("says when Vault cannot be read, with exit 3, and when the token is missing, with exit 2", () => {
    const bad = spawnSync(process.execPath, [join(ROOT, "dist", "verify.js"), "example"], { encoding: "utf8", env: { PATH: process.env.PATH ?? "", VAULT_ADDR: server.addr, VAULT_TOKEN: "not-a-token", VAULT_CACERT: join(dir, "bao", "vault-ca.pem"), VAULT_GKE_ENVIRONMENTS: envDir } });
    expect(bad.status).toBe(3);
    expect(bad.stderr).toMatch(/^verify: reading https:\/\/127\.0\.0\.1:\d+ failed: vault read sys\/auth: HTTP 403/);
    const none = spawnSync(process.execPath, [join(ROOT, "dist", "verify.js"), "example"], { encoding: "utf8", env: { PATH: process.env.PATH ?? "", VAULT_GKE_ENVIRONMENTS: envDir } });
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

it("never read the verifier's token into its output", () => {
  expect(readFileSync(join(ROOT, "dist", "verify.js"), "utf8")).not.toContain(String(tokens.plan));
});
