// Shared by the verifier*.int.test.ts files: a real OpenBao holding what the stacks declare (the shared
// stack's access configuration, two tenants applied the way the runners apply them, tenant policies rendered
// by the sidecar's code), the credentials the test files use, and `npm run verify` run against it.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { planTenantPolicies, readInventory } from "@vault-gke/agent/verify";
import { VaultClient } from "@vault-gke/agent/vault";
import { APPLY_TOKEN_MAX_TTL_SEC } from "../config/schema";
import { applyRoleSettings } from "../constructs/runner-auth";
import { environmentPolicies, type ConnectionPin } from "../policies";
import { postgresEngineSettings } from "../config/postgres-engine-settings";
import { IN_CLUSTER_API_SERVER } from "../contract/vault-names";
import { commandArgs, exampleData, exampleEnv, merge } from "./helpers";
import { DISTRIBUTION, POD_SERVICE_ACCOUNT_DIR, startDevServer, stopAllBao, type BaoServer } from "./support/bao";
import { GoogleIdTokenIssuer } from "./support/google-id-token";
import { OIDC_STAND_IN_KEY_ID, startOidcIssuer, type OidcIssuer } from "./support/oidc-issuer";
import { tenantStackRequests, type ProviderRequest } from "./support/tenant-stack-requests";
import { startTokenReviewStandIn, type TokenReviewStandIn } from "./support/token-review-stand-in";
import { vaultRequest } from "./support/vault-http";

// OpenBao has no GCP auth plugin, so the environment is the OpenBao flavour (no auth/gcp declared).
const overrides = { vault: { distribution: "openbao" } };
export const env = exampleEnv(overrides);
export const CLUSTER = env.tenancy.clusters[0].name;
export const AUDIENCE = "https://vault.example.acme.dev:8200";
/** The runners' apply login role, as the shared stack configures it. */
export const applyRole = () =>
  applyRoleSettings({
    applyServiceAccounts: env.delivery.applyServiceAccounts,
    audience: AUDIENCE,
    policy: "provisioner",
    ttlSec: 900,
    maxTtlSec: APPLY_TOKEN_MAX_TTL_SEC,
  });

// Set by verifierWorldPerFile's beforeAll (the test files read them once it has run).
export let dir: string;
export let envDir: string;
export let server: BaoServer;
export let root: string;
export let kube: TokenReviewStandIn;
/** The runners' OIDC issuer (delivery.runnerIssuer): Vault reads its keys from its discovery document, as from Google's. */
export let oidc: OidcIssuer;
const issuer = new GoogleIdTokenIssuer();
export const tokens: { plan?: string; sidecar?: string; apply?: string } = {};

export const call = (token: string, method: string, path: string, body?: unknown) =>
  vaultRequest(server.addr, server.ca, method, `/v1/${path}`, { token, body });
export async function ok(token: string, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await call(token, method, path, body);
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}
export async function orphan(policy: string): Promise<string> {
  return String(((await ok(root, "POST", "auth/token/create-orphan", { policies: [policy], period: "1h" })).auth as { client_token: string }).client_token);
}

/** Renders tenant policies exactly as the sidecar does: its code, its token. */
export async function renderTenantPolicies(): Promise<void> {
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
export async function applyAsRunner(r: ProviderRequest): Promise<void> {
  await ok(String(tokens.apply), r.method, r.path, r.body);
}

/** The tenant stack's request `what`, for a tenant (as the runner sends it). */
export function tenantRequest(tenant: string, what: string) {
  const r = tenantStackRequests(tenant, CLUSTER).find((q) => q.what === what);
  if (!r) throw new Error(`the tenant stack makes no request "${what}"`);
  return r;
}

/** Vault's own cluster backend and its snapshot role, as the shared stack configures them (the API server as Vault's pods reach it, with their own CA and token). */
export async function configureInCluster(): Promise<void> {
  await ok(root, "POST", "sys/auth/in-cluster", { type: "kubernetes" });
  await ok(root, "POST", "auth/in-cluster/config", { kubernetes_host: IN_CLUSTER_API_SERVER, disable_local_ca_jwt: false });
  await ok(root, "POST", "auth/in-cluster/role/snapshot", {
    bound_service_account_names: ["vault-snapshot"],
    bound_service_account_namespaces: ["vault"],
    audience: "vault",
    alias_name_source: "serviceaccount_uid",
    token_policies: ["snapshot"],
  });
}

/** The tenant files the verifier reads: what the replayed tenant stack requests declare (support/tenant-stack-requests.ts). */
export const TENANT_FILES = ["payments", "search"].map((tenant) => ({
  name: tenant,
  cluster: CLUSTER,
  namespaces: [tenant],
  serviceAccounts: [`${tenant}-api`],
  engines: { postgres: { host: "db.invalid", port: 5432, database: "app", username: "vault_admin" } },
}));

/** Each tenant file's database connection at the address it declares (the provisioner policy pins it there). */
export const PINS: ConnectionPin[] = TENANT_FILES.map((t) => ({
  path: `tenants/${t.name}/database/config/postgres`,
  connectionUrl: `postgresql://{{username}}:{{password}}@${t.engines.postgres.host}:${t.engines.postgres.port}/${t.engines.postgres.database}?sslmode=verify-full`,
}));

/** The creation statements a tenant file renders (the replayed request carries a placeholder). */
export function renderedStatements(tenant: string): string[] {
  const file = TENANT_FILES.find((t) => t.name === tenant);
  if (!file) throw new Error(`no tenant file ${tenant}`);
  const pg = file.engines.postgres;
  return postgresEngineSettings({ ...pg, schema: "public", access: "readonly", sslMode: "verify-full", defaultTtlSec: 900, maxTtlSec: 3600 })
    .creationStatements;
}

/** A tenant's database role as its stack writes it: the replayed request with the statements the tenant file renders. */
export async function writeDatabaseRole(tenant: string): Promise<void> {
  const r = tenantRequest(tenant, "create the database role");
  await applyAsRunner({ ...r, body: { ...r.body, creation_statements: renderedStatements(tenant) } });
}

/** "<kind> <path>" of each finding line, sorted. */
export function kindsAndPaths(lines: readonly string[]): string[] {
  return lines
    .filter((l) => l.startsWith("finding "))
    .map((l) => {
      const m = /^finding (\S+) (\S+): ./.exec(l);
      if (!m) throw new Error(`not a finding line: ${l}`);
      return `${m[1]} ${m[2]}`;
    })
    .sort();
}

/**
 * `npm run verify` with the plan token, as a child process. Asynchronous: the server's stdout audit device writes into
 * a pipe this process drains, so a blocked event loop (spawnSync) would fill it and stall every request of the server.
 */
async function verifyProcess(extraEnv: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [...commandArgs("verify"), "example"], {
    env: {
      PATH: process.env.PATH ?? "",
      VAULT_ADDR: server.addr,
      VAULT_TOKEN: String(tokens.plan),
      VAULT_CACERT: join(dir, "bao", "vault-ca.pem"),
      VAULT_GKE_ENVIRONMENTS: envDir,
      VAULT_GKE_TENANTS: join(dir, "tenants"),
      VAULT_GKE_VERIFY_SETTLE_SECONDS: "0",
      ...extraEnv,
    },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const status = await new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return { status, stdout, stderr };
}

/** `npm run verify`: its exit status and output lines (it must print nothing on stderr). */
export async function runVerify(extraEnv: Record<string, string> = {}): Promise<{ status: number | null; lines: string[] }> {
  const { status, stdout, stderr } = await verifyProcess(extraEnv);
  expect(stderr).toBe("");
  return { status, lines: stdout.trim().split("\n") };
}

/** `npm run verify` expected to stop on a usage or settings error (exit 2): its stderr. */
export async function runVerifyExpectingError(extraEnv: Record<string, string>): Promise<{ status: number | null; stderr: string }> {
  const { status, stderr } = await verifyProcess(extraEnv);
  return { status, stderr };
}

/** Starts that OpenBao (and the TokenReview stand-in) before the calling file's tests and stops it after them (call once at its top level). */
export function verifierWorldPerFile(): void {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "vault-gke-verifier-"));
    envDir = join(dir, "environments");
    mkdirSync(envDir);
    oidc = await startOidcIssuer(join(dir, "oidc"), issuer.privateKey);
    kube = await startTokenReviewStandIn();
    // The pod's service account files, which auth/in-cluster reads (disable_local_ca_jwt false, as in a pod).
    const podFiles = join(dir, "pod-service-account");
    mkdirSync(podFiles);
    writeFileSync(join(podFiles, "ca.crt"), kube.caPem);
    writeFileSync(join(podFiles, "token"), kube.reviewerJwt);
    writeFileSync(join(podFiles, "namespace"), "vault");
    const caBundle = join(dir, "ca-bundle.pem");
    writeFileSync(caBundle, readFileSync(oidc.caFile));
    // The audit devices every server has (contract/audit-devices.ts), here in the test's folder: OpenBao reads them from
    // its configuration; on Vault the sidecar enables them through the API, as below.
    const auditFile = join(dir, "audit.log");
    const auditConfig = [
      `audit "file" "file" {\n  options {\n    file_path = "${auditFile}"\n  }\n}`,
      `audit "file" "stdout" {\n  options {\n    file_path = "stdout"\n  }\n}`,
    ];
    ({ server, rootToken: root } = await startDevServer(join(dir, "bao"), "dev", {
      config: DISTRIBUTION === "openbao" ? auditConfig.join("\n") : undefined,
      env: { SSL_CERT_FILE: caBundle, [POD_SERVICE_ACCOUNT_DIR]: podFiles },
    }));
    if (DISTRIBUTION === "vault") {
      await ok(root, "PUT", "sys/audit/file", { type: "file", options: { file_path: auditFile, mode: "0600" } });
      await ok(root, "PUT", "sys/audit/stdout", { type: "file", options: { file_path: "stdout" } });
    }
    // The environment the verifier reads: its tenant cluster's API server is the stand-in.
    const data = exampleData() as { tenancy: { clusters: Record<string, unknown>[] } };
    const clusters = data.tenancy.clusters.map((c) => (c.name === CLUSTER ? { ...c, apiServerUrl: kube.url, caCertificate: kube.caPem } : c));
    writeFileSync(join(envDir, "example.yaml"), stringify(merge(data, { ...overrides, tenancy: { clusters }, delivery: { runnerIssuer: oidc.url } })));

    mkdirSync(join(dir, "tenants", "example"), { recursive: true });
    for (const t of TENANT_FILES) writeFileSync(join(dir, "tenants", "example", `${t.name}.yaml`), stringify(t));

    // A dev server mounts secret/ (the verifier rightly reports it); a real one has no such engine.
    await ok(root, "DELETE", "sys/mounts/secret");
    // What the sidecar writes, and what an admin's shared stack configures.
    for (const [name, policy] of Object.entries(environmentPolicies([CLUSTER], PINS))) await ok(root, "PUT", `sys/policies/acl/${name}`, { policy });
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
    await ok(root, "POST", "auth/runner/config", { oidc_discovery_url: oidc.url, bound_issuer: oidc.url });
    await ok(root, "POST", "auth/runner/role/provisioner", applyRole());

    tokens.plan = await orphan("vault-gke-plan");
    tokens.sidecar = await orphan("vault-gke-sidecar");
    const login = await vaultRequest(server.addr, server.ca, "POST", "/v1/auth/runner/login", {
      body: {
        role: "provisioner",
        jwt: issuer.issue({ email: env.delivery.applyServiceAccounts[0], audience: AUDIENCE, issuer: oidc.url, keyId: OIDC_STAND_IN_KEY_ID }),
      },
    });
    if (!login.body.auth) throw new Error(`the runner login failed: ${login.status} ${JSON.stringify(login.body)}`);
    tokens.apply = String((login.body.auth as { client_token: string }).client_token);
    // Two tenants, applied the way the runner applies them.
    for (const tenant of ["payments", "search"]) {
      for (const r of tenantStackRequests(tenant, CLUSTER).filter((r) => r.method === "POST" || r.method === "PUT")) await applyAsRunner(r);
      await writeDatabaseRole(tenant);
    }
    await renderTenantPolicies();
  });

  afterAll(async () => {
    await stopAllBao();
    await kube?.stop();
    await oidc?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
}
