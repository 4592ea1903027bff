import { BootstrapConfigError, CONFIG_VARIABLES, loadConfig } from "../../src/sidecar/config";
import { bootstrapEnvironment } from "../../../stacks/vault-server-settings";
import { exampleEnv } from "../../../__tests__/helpers";
import { Sidecar, sidecarEndpoint } from "../support/sidecar";

const shipped = () => ({ ...bootstrapEnvironment(exampleEnv()), POD_NAME: "vault-2" });

function problems(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof BootstrapConfigError) return [...error.problems];
    throw error;
  }
  throw new Error("expected a BootstrapConfigError");
}

describe("bootstrap config", () => {
  it("reads exactly the environment the vault stack ships", () => {
    const env = shipped();
    for (const name of Object.keys(env)) expect(CONFIG_VARIABLES).toContain(name);
    const config = loadConfig(env);
    expect(config).toMatchObject({
      podName: "vault-2",
      ordinal: 2,
      seal: "auto",
      storage: "raft",
      keyShares: 5,
      keyThreshold: 3,
      revokeRootToken: true,
      auditMode: "api",
      planTokenPeriodSec: 3600,
      httpPort: 8210,
    });
    expect(config.secrets).toEqual({
      initResponse: "example-vault-init-response",
      rootToken: "example-vault-root-token",
      planToken: "example-vault-plan-token",
      sidecarToken: "example-vault-sidecar-token",
      canary: "example-vault-canary",
    });
    expect(config.secrets.initResponse).toBe("example-vault-init-response");
    expect(config.secretManagerEndpoint).toBe("https://secretmanager.googleapis.com");
  });

  it("fails on a plaintext Vault address", () => {
    expect(problems({ ...shipped(), VAULT_ADDR: "http://127.0.0.1:8200" })).toContainEqual(
      expect.stringMatching(/^bootstrap config: VAULT_ADDR: .*never talks plaintext.*\(got "http:\/\/127.0.0.1:8200"\)$/),
    );
  });

  it("fails on a missing CA", () => {
    const env: Record<string, string | undefined> = shipped();
    delete env.VAULT_CACERT;
    expect(problems(env)).toContainEqual(expect.stringMatching(/^bootstrap config: VAULT_CACERT: .*verifies Vault's certificate.*\(got unset\)$/));
  });

  it("fails on a pod name without an ordinal", () => {
    expect(problems({ ...shipped(), POD_NAME: "vault" })).toContainEqual(
      expect.stringMatching(/POD_NAME: must be a StatefulSet pod name ending in its ordinal/),
    );
  });

  it("fails on an unknown seal type and a threshold above the shares, one line each", () => {
    const lines = problems({ ...shipped(), SEAL_TYPE: "kms" });
    expect(lines).toEqual([expect.stringMatching(/SEAL_TYPE: must be auto .* or shamir/)]);
    expect(problems({ ...shipped(), KEY_SHARES: "2", KEY_THRESHOLD: "3" })).toEqual([
      expect.stringMatching(/KEY_THRESHOLD: \(3\) cannot exceed KEY_SHARES \(2\)/),
    ]);
  });

  it("fails on a bad number and a bad boolean", () => {
    const lines = problems({ ...shipped(), KEY_SHARES: "five", REVOKE_ROOT_TOKEN: "yes" });
    expect(lines).toEqual(
      expect.arrayContaining([expect.stringMatching(/KEY_SHARES: must be a whole number/), expect.stringMatching(/REVOKE_ROOT_TOKEN: must be true or false/)]),
    );
  });

  it.each([
    ["SECRET_PLAN_TOKEN", "plan/token", "must be a Secret Manager secret id (letters, digits, - and _)"],
    ["SECRET_SIDECAR_TOKEN", "sidecar token", "must be a Secret Manager secret id (letters, digits, - and _)"],
    [
      "SECRET_SIDECAR_TOKEN",
      undefined,
      "is required: the vault stack sets it to a Secret Manager secret id, <environment>-vault-<record> (contract/secret-ids.ts)",
    ],
    ["PLAN_TOKEN_PERIOD_SEC", "0", "must be at least 1"],
    ["DECLARED_ACCESS_FILE", undefined, "is required (the vault stack mounts it beside the policies)"],
    ["DECLARED_ACCESS_FILE", "", "is required (the vault stack mounts it beside the policies)"],
    ["HTTP_PORT", "70000", "must be at most 65535"],
    ["TENANT_POLICY_SYNC_SEC", "-30", "must be a whole number of seconds, at least 1 (for example 3600)"],
    ["VERIFY_INTERVAL_SEC", "5m", "must be a whole number of seconds, at least 1 (for example 3600)"],
    ["CERTIFICATE_CHECK_SEC", "1m", "must be a whole number of seconds, at least 1 (for example 3600)"],
  ])("fails on %s=%j, naming it, its value and the fix", (name, value, fix) => {
    const env: Record<string, string | undefined> = { ...shipped(), [name]: value };
    if (value === undefined) delete env[name];
    expect(problems(env)).toEqual([`bootstrap config: ${name}: ${fix} (got ${value === undefined ? "unset" : JSON.stringify(value)})`]);
  });

  it("reports bad settings one line each, keeps serving its endpoint with the diagnosis, and exits 2 only when stopped", async () => {
    const sidecar = new Sidecar({ VAULT_ADDR: "http://x", HTTP_PORT: "0" });
    try {
      const endpoint = await sidecarEndpoint(sidecar);
      const state = (await (await fetch(`${endpoint}/state`)).json()) as { diagnosis?: { code: string; message: string } };
      expect(state.diagnosis?.code).toBe("bad-configuration");
      expect(state.diagnosis?.message).toContain("VAULT_ADDR");
      expect((await fetch(`${endpoint}/livez`)).status).toBe(200);
      expect((await fetch(`${endpoint}/readyz`)).status).toBe(200);
      expect(sidecar.child.exitCode).toBeNull();
    } finally {
      expect(await sidecar.stop()).toEqual({ code: 2, signal: null });
    }
    const problemLines = sidecar.output.split("\n").filter((l) => l.startsWith("bootstrap config: "));
    expect(problemLines.length).toBeGreaterThan(5);
    expect(problemLines.every((l) => /^bootstrap config: [A-Z_]+: /.test(l))).toBe(true);
    expect(sidecar.output).not.toMatch(/\n\s+at /);
    expect(sidecar.lines.filter((l) => l.level === "error")).toHaveLength(1);
  });
});
