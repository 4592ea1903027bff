// The Atlantis workflow's env and run steps (deploy/atlantis/repos.yaml), run
// as Atlantis runs them: `sh -c <command>` in the project dir with DIR and
// PROJECT_NAME set, against the real synthesized stacks and delivery manifest,
// with a gcloud stand-in first on PATH (support/gcloud-stand-in.ts) and, for
// the apply login, a real OpenBao dev server whose auth/runner is configured
// exactly as the shared stack configures it (applyRoleSettings).
// Atlantis takes an env step's value from stdout AND stderr, so each command
// must print exactly the value on stdout and nothing on stderr, or fail.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { APPLY_TOKEN_MAX_TTL_SEC } from "../config/schema";
import { applyRoleSettings, GOOGLE_ISSUER } from "../constructs/runner-auth";
import { environmentPolicies } from "../policies";
import { synthesizeTo } from "../scripts/atlantis-config";
import { DELIVERY_MANIFEST_FILE, type DeliveryManifest } from "../stacks/delivery-manifest";
import { exampleEnv, ROOT } from "./helpers";
import { startDevServer, stopAllBao, type BaoServer } from "./support/bao";
import { GcloudStandIn } from "./support/gcloud-stand-in";
import { GoogleIdTokenIssuer } from "./support/google-id-token";
import { vaultRequest } from "./support/vault-http";

jest.setTimeout(90_000);

const BIN = join(ROOT, "deploy", "atlantis", "bin");
const env = exampleEnv();
const PROJECT = env.project;
const PLAN_TOKEN = "s.PlanTokenForTestsOnly0123456789";
const PASSWORD = "tenant-db-password-for-tests";

type Stage = "plan" | "apply" | "import";
interface Step {
  env?: { name: string; command?: string; value?: string };
  run?: string;
}
const server = parse(readFileSync(join(ROOT, "deploy", "atlantis", "repos.yaml"), "utf8")) as { workflows: Record<string, Record<Stage, { steps: (string | Step)[] }>> };
const steps = (stage: Stage) => server.workflows["vault-gke"][stage].steps.filter((s): s is Step => typeof s === "object");
/** The command of an env step, with the image's script folder mapped to the repository's. */
function envCommand(stage: Stage, name: string): string {
  const step = steps(stage).find((s) => s.env?.name === name);
  if (!step?.env?.command) throw new Error(`no env step ${name} with a command in the ${stage} stage`);
  return step.env.command.replace("/opt/vault-gke/bin/", `${BIN}/`);
}

let outdir: string;
let gcloud: GcloudStandIn;
let bao: BaoServer;
let root: string;
let baoDir: string;
const issuer = new GoogleIdTokenIssuer();

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}
function run(command: string, stack: string, extra: Record<string, string> = {}): Result {
  const res = spawnSync("sh", ["-c", command], {
    cwd: join(outdir, "stacks", stack),
    env: { PATH: gcloud.path(), HOME: outdir, DIR: join(outdir, "stacks", stack), PROJECT_NAME: stack, ...extra },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}
/** Atlantis' value: the output with one trailing newline trimmed; the step must print nothing on stderr. */
function value(res: Result): string {
  expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: "" });
  return res.stdout.replace(/\n$/, "");
}
function refused(res: Result): string {
  expect(res.status).not.toBe(0);
  expect(res.stdout).toBe("");
  expect(res.stderr).toMatch(/^vault-gke: [^\n]+\n$/);
  return res.stderr;
}

beforeAll(async () => {
  outdir = await synthesizeTo(ROOT);
  baoDir = mkdtempSync(join(tmpdir(), "vault-gke-delivery-bao-"));
  ({ server: bao, rootToken: root } = await startDevServer(baoDir));
  // The delivery manifest as the synth wrote it, pointed at this OpenBao (the address is also the ID tokens' audience).
  const file = join(outdir, DELIVERY_MANIFEST_FILE);
  const manifest = JSON.parse(readFileSync(file, "utf8")) as DeliveryManifest & { environments: Record<string, { vaultAddress: string }> };
  manifest.environments.example.vaultAddress = bao.addr;
  writeFileSync(file, JSON.stringify(manifest));

  const ok = async (method: string, path: string, body?: unknown) => {
    const res = await vaultRequest(bao.addr, bao.ca, method, `/v1/${path}`, { token: root, body });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  };
  // The policies the sidecar writes (the apply token has no default policy: its own grants what it needs).
  for (const [name, policy] of Object.entries(environmentPolicies(env.tenancy.clusters.map((c) => c.name)))) await ok("PUT", `sys/policies/acl/${name}`, { policy });
  await ok("POST", "sys/auth/runner", { type: "jwt" });
  await ok("POST", "auth/runner/config", { jwt_validation_pubkeys: [issuer.publicKeyPem], bound_issuer: GOOGLE_ISSUER });
  await ok(
    "POST",
    "auth/runner/role/provisioner",
    applyRoleSettings({ applyServiceAccounts: env.delivery.applyServiceAccounts, audience: bao.addr, policy: "provisioner", ttlSec: env.delivery.applyTokenTtl, maxTtlSec: APPLY_TOKEN_MAX_TTL_SEC }),
  );

  gcloud = new GcloudStandIn();
  gcloud.secret(PROJECT, "example-vault-plan-token", JSON.stringify({ format: "vault-gke/plan-token/v1", token: PLAN_TOKEN, accessor: "acc", storedAt: "2026-11-29T00:00:00Z" }));
  gcloud.secret(PROJECT, "example-tenant-postgres-payments", PASSWORD);
  const state = { version: 4, outputs: { vault_ca_certificate: { value: bao.ca.toString(), type: "string" } } };
  gcloud.object(env.backend.bucket, `${env.backend.prefix}/example-vault/default.tfstate`, JSON.stringify(state));
  gcloud.idToken(bao.addr, issuer.issue({ email: env.delivery.applyServiceAccounts[0], audience: bao.addr }));
});

afterAll(async () => {
  await stopAllBao();
  gcloud?.remove();
  rmSync(outdir, { recursive: true, force: true });
  rmSync(baoDir, { recursive: true, force: true });
});

beforeEach(() => gcloud.mode("ok"));

describe("plan stage", () => {
  it("gives the platform and vault stacks no Vault credential, CA or password", () => {
    for (const stack of ["example-platform", "example-vault"]) {
      for (const name of ["VAULT_CACERT", "VAULT_TOKEN", "TF_VAR_postgres_password"]) expect(value(run(envCommand("plan", name), stack))).toBe("");
    }
    expect(gcloud.calls()).toEqual([]);
  });

  it("gives the shared and tenant stacks exactly the plan token, and the vault stack's CA from its state", () => {
    for (const stack of ["example-shared", "example-tenant-payments", "example-tenant-search"]) {
      expect(value(run(envCommand("plan", "VAULT_TOKEN"), stack))).toBe(PLAN_TOKEN);
      const ca = value(run(envCommand("plan", "VAULT_CACERT"), stack));
      expect(ca).toBe(join(outdir, "stacks", stack, "vault-ca.pem"));
      expect(readFileSync(ca, "utf8").trim()).toBe(bao.ca.toString().trim());
    }
    const skip = steps("plan").find((s) => s.env?.name === "TERRAFORM_VAULT_SKIP_CHILD_TOKEN");
    expect(skip?.env?.value).toBe("true");
  });

  it("stays exact when gcloud warns on stderr", () => {
    gcloud.mode("noisy");
    expect(value(run(envCommand("plan", "VAULT_TOKEN"), "example-tenant-payments"))).toBe(PLAN_TOKEN);
    expect(value(run(envCommand("apply", "TF_VAR_postgres_password"), "example-tenant-payments"))).toBe(PASSWORD);
  });

  it("gives a placeholder password only to the tenant stack that declares postgres_password", () => {
    expect(value(run(envCommand("plan", "TF_VAR_postgres_password"), "example-tenant-payments"))).toBe("plan-placeholder");
    expect(value(run(envCommand("plan", "TF_VAR_postgres_password"), "example-tenant-search"))).toBe("");
  });

  it("fails, printing nothing on stdout, when gcloud fails", () => {
    gcloud.mode("fail");
    const failing: [Stage, string, string][] = [
      ["plan", "VAULT_TOKEN", "example-shared"],
      ["plan", "VAULT_TOKEN", "example-tenant-payments"],
      ["plan", "VAULT_CACERT", "example-tenant-payments"],
      ["apply", "VAULT_TOKEN", "example-tenant-payments"],
      ["apply", "TF_VAR_postgres_password", "example-tenant-payments"],
    ];
    for (const [stage, name, stack] of failing) {
      const reason = refused(run(envCommand(stage, name), stack));
      expect(reason).toMatch(/PERMISSION_DENIED/);
      expect(reason).not.toContain("partial output");
    }
  });

  it("fails when the plan token secret holds something else", () => {
    gcloud.secret(PROJECT, "example-vault-plan-token", "not json");
    try {
      expect(refused(run(envCommand("plan", "VAULT_TOKEN"), "example-tenant-payments"))).toMatch(/does not hold a plan token record/);
      gcloud.secret(PROJECT, "example-vault-plan-token", JSON.stringify({ format: "something/else", token: PLAN_TOKEN }));
      expect(refused(run(envCommand("plan", "VAULT_TOKEN"), "example-tenant-payments"))).not.toContain(PLAN_TOKEN);
    } finally {
      gcloud.secret(PROJECT, "example-vault-plan-token", JSON.stringify({ format: "vault-gke/plan-token/v1", token: PLAN_TOKEN }));
    }
  });

  it("fails for a stack the synth does not know", () => {
    expect(refused(run(envCommand("plan", "VAULT_TOKEN"), "example-vault", { PROJECT_NAME: "example-nope" }))).toMatch(/example-nope/);
  });
});

describe("apply stage", () => {
  const lookupSelf = (token: string) => vaultRequest(bao.addr, bao.ca, "GET", "/v1/auth/token/lookup-self", { token });

  it("logs a tenant stack in at auth/runner with a Google ID token for the Vault address, then revokes the token", async () => {
    const stack = "example-tenant-payments";
    gcloud.clearCalls();
    const ca = value(run(envCommand("apply", "VAULT_CACERT"), stack));
    const token = value(run(envCommand("apply", "VAULT_TOKEN"), stack, { VAULT_CACERT: ca }));
    expect(token).toMatch(/^s\.|^hvs\./);
    expect(value(run(envCommand("apply", "TF_VAR_postgres_password"), stack))).toBe(PASSWORD);
    expect(gcloud.calls()).toEqual(expect.arrayContaining([`auth print-identity-token --audiences=${bao.addr} --include-email`]));

    const self = await lookupSelf(token);
    expect(self.status).toBe(200);
    const data = self.body.data as { policies: string[]; ttl: number; renewable: boolean; explicit_max_ttl: number };
    expect(data.policies).toContain("provisioner");
    expect(data.ttl).toBeGreaterThan(0);
    expect(data.ttl).toBeLessThanOrEqual(env.delivery.applyTokenTtl);
    expect(data.explicit_max_ttl).toBeLessThanOrEqual(APPLY_TOKEN_MAX_TTL_SEC);

    const revoke = steps("apply").find((s) => s.run)?.run?.replace("/opt/vault-gke/bin/", `${BIN}/`) as string;
    const res = run(revoke, stack, { VAULT_TOKEN: token, VAULT_CACERT: ca });
    expect(res).toEqual({ status: 0, stdout: "vault-gke: revoked this run's apply token\n", stderr: "" });
    expect((await lookupSelf(token)).status).toBe(403);
  });

  it("impersonates the apply service account when one is set", () => {
    gcloud.clearCalls();
    const ca = value(run(envCommand("apply", "VAULT_CACERT"), "example-tenant-search"));
    const sa = env.delivery.applyServiceAccounts[1];
    value(run(envCommand("apply", "VAULT_TOKEN"), "example-tenant-search", { VAULT_CACERT: ca, VAULT_GKE_APPLY_SERVICE_ACCOUNT: sa }));
    expect(gcloud.calls()).toContain(`auth print-identity-token --audiences=${bao.addr} --include-email --impersonate-service-account=${sa}`);
  });

  it("uses an ID token the CI job already holds (VAULT_GKE_ID_TOKEN) without calling gcloud", async () => {
    const ca = value(run(envCommand("apply", "VAULT_CACERT"), "example-tenant-search"));
    gcloud.mode("fail");
    const idToken = issuer.issue({ email: env.delivery.applyServiceAccounts[1], audience: bao.addr });
    const token = value(run(envCommand("apply", "VAULT_TOKEN"), "example-tenant-search", { VAULT_CACERT: ca, VAULT_GKE_ID_TOKEN: idToken }));
    expect((await lookupSelf(token)).status).toBe(200);
  });

  it("fails when Vault refuses the ID token (a service account that is not an apply runner)", () => {
    gcloud.idToken(bao.addr, issuer.issue({ email: "someone-else@acme-vault-example.iam.gserviceaccount.com", audience: bao.addr }));
    try {
      const ca = value(run(envCommand("apply", "VAULT_CACERT"), "example-tenant-payments"));
      expect(refused(run(envCommand("apply", "VAULT_TOKEN"), "example-tenant-payments", { VAULT_CACERT: ca }))).toMatch(/refused with HTTP (400|403)/);
    } finally {
      gcloud.idToken(bao.addr, issuer.issue({ email: env.delivery.applyServiceAccounts[0], audience: bao.addr }));
    }
  });

  it("fails when Vault's certificate is not the one the vault stack's state names", () => {
    expect(refused(run(envCommand("apply", "VAULT_TOKEN"), "example-tenant-payments", { VAULT_CACERT: "/etc/ssl/certs/ca-certificates.crt" }))).toMatch(/cannot reach Vault/);
  });

  it("refuses the shared stack and says how an admin applies it", () => {
    const reason = refused(run(envCommand("apply", "VAULT_TOKEN"), "example-shared"));
    expect(reason).toContain("applied by an admin only");
    expect(reason).toContain("vault login -method=gcp role=admin");
    expect(reason).toContain("npx cdktf deploy example-shared");
  });

  it("gives the platform and vault stacks no Vault credential at apply either", () => {
    for (const stack of ["example-platform", "example-vault"]) expect(value(run(envCommand("apply", "VAULT_TOKEN"), stack))).toBe("");
  });
});

describe("after the apply", () => {
  it("runs the verifier with the plan token for tenant and shared stacks, and fails the step on findings", async () => {
    // A real plan token on this OpenBao, as the sidecar makes it; this server has none of the shared stack's auth methods.
    const res = await vaultRequest(bao.addr, bao.ca, "POST", "/v1/auth/token/create-orphan", { token: root, body: { policies: ["vault-gke-plan"], period: "1h", no_default_policy: true } });
    const planToken = String((res.body.auth as { client_token: string }).client_token);
    gcloud.secret(PROJECT, "example-vault-plan-token", JSON.stringify({ format: "vault-gke/plan-token/v1", token: planToken, accessor: "acc", storedAt: "2026-11-29T00:00:00Z" }));
    try {
      const step = steps("apply").find((s) => s.run?.endsWith("verify.sh"));
      expect(step).toBeDefined();
      const command = String(step?.run).replace("/opt/vault-gke/bin/", `${BIN}/`);
      const ca = value(run(envCommand("apply", "VAULT_CACERT"), "example-tenant-search"));
      const verified = run(command, "example-tenant-search", { VAULT_CACERT: ca, VAULT_GKE_REPO: ROOT, PATH: `${gcloud.path()}:${process.env.PATH}` });
      expect(verified.status).toBe(1);
      expect(verified.stdout).toContain("finding missing-auth-method auth/in-cluster: the stacks declare a kubernetes auth method here and Vault has none (apply the shared stack)");
      expect(verified.stdout).toMatch(/\d+ finding\(s\) in https:\/\/127\.0\.0\.1:\d+ for environment example/);
      expect(verified.stdout + verified.stderr).not.toContain(planToken);
      // Nothing to verify after a platform or vault apply.
      expect(run(command, "example-platform", { VAULT_GKE_REPO: ROOT })).toMatchObject({ status: 0, stdout: "" });
    } finally {
      gcloud.secret(PROJECT, "example-vault-plan-token", JSON.stringify({ format: "vault-gke/plan-token/v1", token: PLAN_TOKEN, accessor: "acc", storedAt: "2026-11-29T00:00:00Z" }));
    }
  });
});
