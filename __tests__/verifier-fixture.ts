// Shared by the verifier*.int.test.ts files: a real OpenBao holding what the stacks declare (the shared
// stack's access configuration, two tenants applied the way the runners apply them, tenant policies rendered
// by the sidecar's code), the credentials the test files use, and `npm run verify` run against it.
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
import { commandArgs, exampleData, exampleEnv, merge } from "./helpers";
import { startDevServer, stopAllBao, type BaoServer } from "./support/bao";
import { GoogleIdTokenIssuer } from "./support/google-id-token";
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

/** Vault's own cluster backend and its snapshot role, as the shared stack configures them. */
export async function configureInCluster(): Promise<void> {
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

export function runVerify(): { status: number | null; lines: string[] } {
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

/** Starts that OpenBao (and the TokenReview stand-in) before the calling file's tests and stops it after them (call once at its top level). */
export function verifierWorldPerFile(): void {
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
}
