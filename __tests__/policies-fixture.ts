// Shared by the policies*.int.test.ts files: a real OpenBao with the policies the sidecar writes, tenants a
// and b, the registered cluster's backend and the runners' login as the shared stack configures them, a token
// for each credential vault-gke hands out, and requests made with them.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { APPLY_TOKEN_MAX_TTL_SEC } from "../config/schema";
import { applyRoleSettings, GOOGLE_ISSUER } from "../constructs/runner-auth";
import { environmentPolicies, type ConnectionPin } from "../policies";
import { tenantStackRequests } from "./support/tenant-stack-requests";
import { renderTenantPolicy } from "../contract/tenant-policy";
import { exampleEnv } from "./helpers";
import { startDevServer, stopAllBao, type BaoServer } from "./support/bao";
import { GoogleIdTokenIssuer } from "./support/google-id-token";
import { vaultRequest } from "./support/vault-http";

export const env = exampleEnv();
export const CLUSTER = env.tenancy.clusters[0].name;
export const AUDIENCE = "https://vault.example.acme.dev:8200";
export const APPLY_SA = env.delivery.applyServiceAccounts[0];

let dir: string;
let server: BaoServer;
let root: string;
export const issuer = new GoogleIdTokenIssuer();
export const tokens: Record<"plan" | "apply" | "admin" | "breakGlass" | "sidecar" | "generateRoot" | "snapshot" | "a" | "b", string> = {} as never;

export const call = (token: string, method: string, path: string, body?: unknown) =>
  vaultRequest(server.addr, server.ca, method, `/v1/${path}`, { token, body });
export const status = async (token: string, method: string, path: string, body?: unknown) => (await call(token, method, path, body)).status;
export async function capabilities(token: string, path: string): Promise<string[]> {
  const res = await call(token, "POST", "sys/capabilities-self", { paths: [path] });
  return res.body[path] as string[];
}
async function ok(method: string, path: string, body?: unknown): Promise<void> {
  const res = await call(root, method, path, body);
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
}
/** Reads with the root token (to check that a refused write changed nothing). */
export const asRoot = (method: string, path: string, body?: unknown) => call(root, method, path, body);
export async function login(jwt: string, role = "provisioner"): Promise<{ status: number; token?: string; body: Record<string, unknown> }> {
  const res = await vaultRequest(server.addr, server.ca, "POST", "/v1/auth/runner/login", { body: { role, jwt } });
  return { status: res.status, token: (res.body.auth as { client_token?: string } | undefined)?.client_token, body: res.body };
}
/** A stand-in for the reviewer service account's token the shared stack stores in a backend's config. */
export const REVIEWER_JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6dmF1bHQ6cmV2aWV3ZXIifQ.c2lnbmF0dXJl";
const applySettings = (ttlSec = env.delivery.applyTokenTtl, maxTtlSec = APPLY_TOKEN_MAX_TTL_SEC) =>
  applyRoleSettings({ applyServiceAccounts: env.delivery.applyServiceAccounts, audience: AUDIENCE, policy: "provisioner", ttlSec, maxTtlSec });

/** Tenant c's database connection, declared at the address its replayed stack sends (support/tenant-stack-requests.ts). */
export const PINS: ConnectionPin[] = tenantStackRequests("c", CLUSTER)
  .filter((r) => r.what === "configure the PostgreSQL connection")
  .map((r) => ({ path: r.path, connectionUrl: String(r.body?.connection_url) }));

/** Starts that OpenBao before the calling file's tests and stops it after them (call once at its top level). */
export function policiesWorldPerFile(): void {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "vault-gke-policies-"));
    ({ server, rootToken: root } = await startDevServer(dir));
    const policies = {
      ...environmentPolicies([CLUSTER], PINS),
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
    tokens.generateRoot = await orphan(["generate-root"], true);
    tokens.admin = await orphan(["admin"]);
    tokens.breakGlass = await orphan(["admin", "break-glass"]);
    // Tenant and snapshot logins carry no default policy (their login roles set token_no_default_policy).
    tokens.a = await orphan(["tenant-a"], true);
    tokens.b = await orphan(["tenant-b"], true);
    tokens.snapshot = await orphan(["snapshot"], true);
    const applied = await login(issuer.issue({ email: APPLY_SA, audience: AUDIENCE }));
    expect(applied.status).toBe(200);
    tokens.apply = String(applied.token);
  });

  afterAll(async () => {
    await stopAllBao();
    rmSync(dir, { recursive: true, force: true });
  });
}
