// The Atlantis workflow's env and run steps (deploy/atlantis/repos.yaml), run
// as Atlantis runs them: `sh -c <command>` in the project dir with DIR and
// PROJECT_NAME set, against the real synthesized stacks and delivery manifest,
// with a gcloud stand-in first on PATH (support/gcloud-stand-in.ts) and, for
// the apply login, a real OpenBao dev server whose auth/runner is configured
// exactly as the shared stack configures it (applyRoleSettings).
// Atlantis takes an env step's value from stdout AND stderr, so each command
// must print exactly the value on stdout and nothing on stderr, or fail.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { APPLY_TOKEN_MAX_TTL_SEC } from "../config/schema";
import { applyRoleSettings, GOOGLE_ISSUER } from "../constructs/runner-auth";
import { declaredTenants } from "../config/declared-access";
import { connectionPins, environmentPolicies } from "../policies";
import { synthesizeTo } from "../scripts/atlantis-config";
import { DELIVERY_MANIFEST_FILE, type DeliveryManifest } from "../stacks/delivery-manifest";
import { exampleEnv, exampleTenants, ROOT } from "./helpers";
import { startDevServer, stopAllBao, type BaoServer } from "./support/bao";
import { GcloudStandIn } from "./support/gcloud-stand-in";
import { GoogleIdTokenIssuer } from "./support/google-id-token";
import { vaultRequest, waitFor } from "./support/vault-http";

jest.setTimeout(90_000);

const BIN = join(ROOT, "deploy", "atlantis", "bin");
const env = exampleEnv();
const PROJECT = env.project;
const PLAN_TOKEN = "s.PlanTokenForTestsOnly0123456789";
const PASSWORD = "tenant-db-password-for-tests";
const RUNNER_POD_IDENTITY = "atlantis@acme-vault-example.iam.gserviceaccount.com";
const APPLY_SA = env.delivery.applyServiceAccounts[0];

type Stage = "plan" | "apply" | "import";
interface Step {
  env?: { name: string; command?: string; value?: string };
  run?: string;
}
const server = parse(readFileSync(join(ROOT, "deploy", "atlantis", "repos.yaml"), "utf8")) as {
  workflows: Record<string, Record<Stage, { steps: (string | Step)[] }>>;
};
const steps = (stage: Stage) => server.workflows["vault-gke"][stage].steps.filter((s): s is Step => typeof s === "object");
/** The command of an env step, with the image's script folder mapped to the repository's. */
function envCommand(stage: Stage, name: string): string {
  const step = steps(stage).find((s) => s.env?.name === name);
  if (!step?.env?.command) throw new Error(`no env step ${name} with a command in the ${stage} stage`);
  return step.env.command.replace("/opt/vault-gke/bin/", `${BIN}/`);
}

/** The policies the sidecar writes for the example, its tenants' database connections pinned (as the vault stack renders them). */
const pinnedPolicies = (pins = connectionPins(declaredTenants(exampleTenants(env)))) =>
  environmentPolicies(
    env.tenancy.clusters.map((c) => c.name),
    pins,
  );

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
    env: { PATH: gcloud.path(), HOME: outdir, DIR: join(outdir, "stacks", stack), PROJECT_NAME: stack, VAULT_GKE_APPLY_SERVICE_ACCOUNT: APPLY_SA, ...extra },
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
  for (const [name, policy] of Object.entries(pinnedPolicies())) await ok("PUT", `sys/policies/acl/${name}`, { policy });
  await ok("POST", "sys/auth/runner", { type: "jwt" });
  await ok("POST", "auth/runner/config", { jwt_validation_pubkeys: [issuer.publicKeyPem], bound_issuer: GOOGLE_ISSUER });
  await ok(
    "POST",
    "auth/runner/role/provisioner",
    applyRoleSettings({
      applyServiceAccounts: env.delivery.applyServiceAccounts,
      audience: bao.addr,
      policy: "provisioner",
      ttlSec: env.delivery.applyTokenTtl,
      maxTtlSec: APPLY_TOKEN_MAX_TTL_SEC,
    }),
  );

  gcloud = new GcloudStandIn();
  gcloud.secret(
    PROJECT,
    "example-vault-plan-token",
    JSON.stringify({ format: "vault-gke/plan-token/v1", token: PLAN_TOKEN, accessor: "acc", storedAt: "2026-11-29T00:00:00Z" }),
  );
  gcloud.secret(PROJECT, "example-tenant-postgres-payments", PASSWORD);
  const state = { version: 4, outputs: { vault_ca_certificate: { value: bao.ca.toString(), type: "string" } } };
  gcloud.object(env.backend.bucket, `${env.backend.prefix}/example-vault/default.tfstate`, JSON.stringify(state));
  // ID tokens minted per call as gcloud mints them; the runner's own credential is a GKE pod's (Workload Identity).
  gcloud.signIdTokens(issuer.privateKey, RUNNER_POD_IDENTITY);
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
  // Issue 17, 2: the vault stack pins each declared connection's address; the tenant's apply waits for the pin.
  describe("wait-for-pins.sh", () => {
    const writeProvisioner = async (policy: string) => {
      const res = await vaultRequest(bao.addr, bao.ca, "PUT", "/v1/sys/policies/acl/provisioner", { token: root, body: { policy } });
      expect(res.status).toBe(204);
    };
    const applyLogin = (stack: string) => {
      const ca = value(run(envCommand("apply", "VAULT_CACERT"), stack));
      return { VAULT_CACERT: ca, VAULT_TOKEN: value(run(envCommand("apply", "VAULT_TOKEN"), stack, { VAULT_CACERT: ca })) };
    };
    const waitForPins = (stack: string, extra: Record<string, string>) => run(`${BIN}/wait-for-pins.sh`, stack, extra);
    afterEach(() => writeProvisioner(pinnedPolicies().provisioner));

    it("goes on at once when the provisioner policy in Vault pins the stack's connection, with the apply token alone", () => {
      expect(waitForPins("example-tenant-payments", applyLogin("example-tenant-payments"))).toEqual({ status: 0, stdout: "", stderr: "" });
    });

    it("refuses, applying nothing, while the policy has no pin or pins another address, naming the connection and the fix", async () => {
      const login = applyLogin("example-tenant-payments");
      for (const pins of [
        [],
        [
          {
            path: "tenants/payments/database/config/postgres",
            connectionUrl: "postgresql://{{username}}:{{password}}@old-db:5432/payments?sslmode=verify-full",
          },
        ],
      ]) {
        await writeProvisioner(pinnedPolicies(pins).provisioner);
        const message = refused(waitForPins("example-tenant-payments", { ...login, VAULT_GKE_PIN_WAIT_SECONDS: "0" }));
        expect(message).toContain(
          "does not pin tenants/payments/database/config/postgres to the address this stack sends yet after 0s; nothing of example-tenant-payments was applied",
        );
        expect(message).toContain("comment 'atlantis apply' again");
        expect(message).not.toContain(login.VAULT_TOKEN);
      }
    });

    it("waits while the policy is not there yet, and goes on once the sidecar writes it", async () => {
      const login = applyLogin("example-tenant-payments");
      await writeProvisioner(pinnedPolicies([]).provisioner);
      const child = spawn("sh", ["-c", `${BIN}/wait-for-pins.sh`], {
        cwd: join(outdir, "stacks", "example-tenant-payments"),
        env: {
          PATH: gcloud.path(),
          HOME: outdir,
          DIR: join(outdir, "stacks", "example-tenant-payments"),
          PROJECT_NAME: "example-tenant-payments",
          ...login,
          VAULT_GKE_PIN_WAIT_SECONDS: "120",
        },
      });
      let stdout = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
      const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
      await waitFor("the script to say it waits", async () => (stdout.includes("waiting (up to 120s)") ? true : undefined), 30_000, 100);
      await writeProvisioner(pinnedPolicies().provisioner);
      expect(await exited).toBe(0);
    });

    it("fails on a wait that is not whole seconds, or without the apply token, naming the fix", () => {
      expect(refused(waitForPins("example-tenant-payments", { VAULT_TOKEN: "unused", VAULT_GKE_PIN_WAIT_SECONDS: "5m" }))).toBe(
        "vault-gke: VAULT_GKE_PIN_WAIT_SECONDS is '5m'; give whole seconds, such as 300\n",
      );
      expect(refused(waitForPins("example-tenant-payments", {}))).toBe("vault-gke: VAULT_TOKEN is not set: run vault-token.sh apply first\n");
    });

    it("does nothing for a tenant stack without a database (no Vault call, no token needed)", () => {
      expect(waitForPins("example-tenant-search", {})).toEqual({ status: 0, stdout: "", stderr: "" });
    });
  });

  const lookupSelf = (token: string) => vaultRequest(bao.addr, bao.ca, "GET", "/v1/auth/token/lookup-self", { token });

  it("logs a tenant stack in at auth/runner with a Google ID token for the Vault address, then revokes the token", async () => {
    const stack = "example-tenant-payments";
    gcloud.clearCalls();
    const ca = value(run(envCommand("apply", "VAULT_CACERT"), stack));
    const token = value(run(envCommand("apply", "VAULT_TOKEN"), stack, { VAULT_CACERT: ca, VAULT_GKE_APPLY_SERVICE_ACCOUNT: APPLY_SA }));
    expect(token).toMatch(/^s\.|^hvs\./);
    expect(value(run(envCommand("apply", "TF_VAR_postgres_password"), stack))).toBe(PASSWORD);
    expect(gcloud.calls()).toEqual(
      expect.arrayContaining([`auth print-identity-token --audiences=${bao.addr} --include-email --impersonate-service-account=${APPLY_SA}`]),
    );

    const self = await lookupSelf(token);
    expect(self.status).toBe(200);
    const data = self.body.data as { policies: string[]; ttl: number; renewable: boolean; explicit_max_ttl: number };
    expect(data.policies).toContain("provisioner");
    expect(data.ttl).toBeGreaterThan(0);
    expect(data.ttl).toBeLessThanOrEqual(env.delivery.applyTokenTtl);
    expect(data.explicit_max_ttl).toBeLessThanOrEqual(APPLY_TOKEN_MAX_TTL_SEC);

    const revoke = steps("apply")
      .find((s) => s.run?.includes("revoke-token.sh"))
      ?.run?.replace("/opt/vault-gke/bin/", `${BIN}/`) as string;
    const res = run(revoke, stack, { VAULT_TOKEN: token, VAULT_CACERT: ca });
    expect(res).toEqual({ status: 0, stdout: "vault-gke: revoked this run's apply token\n", stderr: "" });
    expect((await lookupSelf(token)).status).toBe(403);
  });

  // gcloud puts the email claim (which auth/runner binds on) only into an impersonated account's token:
  // a GKE pod's own Workload Identity token has none, so the login always impersonates.
  it("always impersonates an apply service account, so the ID token carries the email auth/runner binds on", async () => {
    const ca = value(run(envCommand("apply", "VAULT_CACERT"), "example-tenant-search"));
    const sa = env.delivery.applyServiceAccounts[1];
    const before = gcloud.minted().length;
    const token = value(run(envCommand("apply", "VAULT_TOKEN"), "example-tenant-search", { VAULT_CACERT: ca, VAULT_GKE_APPLY_SERVICE_ACCOUNT: sa }));
    expect((await lookupSelf(token)).status).toBe(200);
    expect(gcloud.minted().slice(before)).toEqual([expect.objectContaining({ email: sa, email_verified: true, aud: bao.addr })]);

    // What the runner's own credential prints (no impersonation) is refused by auth/runner: no email claim.
    const own = spawnSync("gcloud", ["auth", "print-identity-token", `--audiences=${bao.addr}`, "--include-email"], {
      env: { PATH: gcloud.path() },
      encoding: "utf8",
    });
    expect(gcloud.minted().at(-1)).not.toHaveProperty("email");
    const login = await vaultRequest(bao.addr, bao.ca, "POST", "/v1/auth/runner/login", { body: { role: "provisioner", jwt: own.stdout.trim() } });
    expect(login.status).toBe(400);
  });

  it("impersonates the environment's only apply service account without being told, and refuses to guess among several", () => {
    const ca = value(run(envCommand("apply", "VAULT_CACERT"), "example-tenant-search"));
    expect(refused(run(envCommand("apply", "VAULT_TOKEN"), "example-tenant-search", { VAULT_CACERT: ca, VAULT_GKE_APPLY_SERVICE_ACCOUNT: "" }))).toBe(
      "vault-gke: VAULT_GKE_APPLY_SERVICE_ACCOUNT is not set and environment example declares 2 apply service accounts: set it to the one of delivery.applyServiceAccounts this runner impersonates (it needs roles/iam.serviceAccountOpenIdTokenCreator on it)\n",
    );
  });

  it("fails when Vault refuses the ID token (a service account that is not an apply runner)", () => {
    const ca = value(run(envCommand("apply", "VAULT_CACERT"), "example-tenant-payments"));
    const other = { VAULT_CACERT: ca, VAULT_GKE_APPLY_SERVICE_ACCOUNT: "someone-else@acme-vault-example.iam.gserviceaccount.com" };
    expect(refused(run(envCommand("apply", "VAULT_TOKEN"), "example-tenant-payments", other))).toMatch(/refused with HTTP (400|403)/);
  });

  it("fails when Vault's certificate is not the one the vault stack's state names", () => {
    expect(
      refused(
        run(envCommand("apply", "VAULT_TOKEN"), "example-tenant-payments", {
          VAULT_CACERT: "/etc/ssl/certs/ca-certificates.crt",
          VAULT_GKE_APPLY_SERVICE_ACCOUNT: APPLY_SA,
        }),
      ),
    ).toMatch(/cannot reach Vault/);
  });

  it("gives the shared stack no credential at apply (apply.sh applies nothing there; an admin applies it)", () => {
    expect(value(run(envCommand("apply", "VAULT_TOKEN"), "example-shared"))).toBe("");
  });

  it("gives the platform and vault stacks no Vault credential at apply either", () => {
    for (const stack of ["example-platform", "example-vault"]) expect(value(run(envCommand("apply", "VAULT_TOKEN"), stack))).toBe("");
  });
});

describe("after the apply", () => {
  it("runs the verifier with the plan token for tenant and shared stacks, and fails the step on findings", async () => {
    // A real plan token on this OpenBao, as the sidecar makes it; this server has none of the shared stack's auth methods.
    const res = await vaultRequest(bao.addr, bao.ca, "POST", "/v1/auth/token/create-orphan", {
      token: root,
      body: { policies: ["vault-gke-plan"], period: "1h", no_default_policy: true },
    });
    const planToken = String((res.body.auth as { client_token: string }).client_token);
    gcloud.secret(
      PROJECT,
      "example-vault-plan-token",
      JSON.stringify({ format: "vault-gke/plan-token/v1", token: planToken, accessor: "acc", storedAt: "2026-11-29T00:00:00Z" }),
    );
    try {
      const step = steps("apply").find((s) => s.run?.endsWith("verify.sh"));
      expect(step).toBeDefined();
      const command = String(step?.run).replace("/opt/vault-gke/bin/", `${BIN}/`);
      const ca = value(run(envCommand("apply", "VAULT_CACERT"), "example-tenant-search"));
      const verified = run(command, "example-tenant-search", { VAULT_CACERT: ca, VAULT_GKE_REPO: ROOT, PATH: `${gcloud.path()}:${process.env.PATH}` });
      expect(verified.status).toBe(1);
      expect(verified.stdout).toContain(
        "finding missing-auth-method auth/in-cluster: the stacks declare a kubernetes auth method here and Vault has none (apply the shared stack)",
      );
      expect(verified.stdout).toMatch(/\d+ finding\(s\) in https:\/\/127\.0\.0\.1:\d+ for environment example/);
      expect(verified.stdout + verified.stderr).not.toContain(planToken);
      // Nothing to verify after a platform or vault apply.
      expect(run(command, "example-platform", { VAULT_GKE_REPO: ROOT })).toMatchObject({ status: 0, stdout: "" });
    } finally {
      gcloud.secret(
        PROJECT,
        "example-vault-plan-token",
        JSON.stringify({ format: "vault-gke/plan-token/v1", token: PLAN_TOKEN, accessor: "acc", storedAt: "2026-11-29T00:00:00Z" }),
      );
    }
  });
});

// deploy.yml's tenant step: Google's ID tokens live an hour and the job may run 90 minutes, so
// each tenant's login mints its own right before it (none is minted at the start of the job).
describe("deploy-tenants.sh", () => {
  it("mints a fresh ID token right before each tenant's login, deploys each tenant with its own login and revokes it", () => {
    const fakes = mkdtempSync(join(tmpdir(), "vault-gke-deploy-fakes-"));
    try {
      // npx (cdktf deploy) and npm (the verifier) record themselves in gcloud's call log, so the log shows the order.
      const record = (name: string) => `#!/usr/bin/env bash\necho "${name} $*" >>"${join(gcloud.dir, "calls.log")}"\n`;
      writeFileSync(join(fakes, "npx"), record("npx"), { mode: 0o755 });
      writeFileSync(join(fakes, "npm"), record("npm"), { mode: 0o755 });
      gcloud.clearCalls();
      const before = gcloud.minted().length;
      const res = spawnSync("bash", [join(ROOT, ".github", "scripts", "deploy-tenants.sh"), "example"], {
        cwd: ROOT,
        env: {
          PATH: `${fakes}:${gcloud.path()}`,
          HOME: outdir,
          VAULT_GKE_DELIVERY: join(outdir, DELIVERY_MANIFEST_FILE),
          VAULT_GKE_APPLY_SERVICE_ACCOUNT: APPLY_SA,
        },
        encoding: "utf8",
        timeout: 60_000,
      });
      expect(res.stderr).toBe("");
      expect(res.status).toBe(0);
      const events = gcloud.calls().filter((c) => c.startsWith("auth print-identity-token") || c.startsWith("npx "));
      expect(events).toEqual([
        `auth print-identity-token --audiences=${bao.addr} --include-email --impersonate-service-account=${APPLY_SA}`,
        "npx cdktf deploy --skip-synth --auto-approve example-tenant-payments",
        `auth print-identity-token --audiences=${bao.addr} --include-email --impersonate-service-account=${APPLY_SA}`,
        "npx cdktf deploy --skip-synth --auto-approve example-tenant-search",
      ]);
      expect(gcloud.minted().slice(before)).toHaveLength(2);
      expect(res.stdout.match(/revoked this run's apply token/g)).toHaveLength(2);
    } finally {
      rmSync(fakes, { recursive: true, force: true });
    }
  });
});
