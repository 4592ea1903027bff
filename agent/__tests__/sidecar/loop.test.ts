// The loop with fakes for Vault and Secret Manager: what it carries out for
// the decisions, in which order, and under which name a failure is counted.
// (The integration tests run the same loop against real OpenBao servers.)
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { loadConfig } from "../../src/sidecar/config";
import type { Finding } from "../../src/verify/verifier";
import { SidecarLoop } from "../../src/sidecar/loop";
import { decode, FORMATS, type SidecarTokenRecord, type StoredInit } from "../../src/sidecar/records";
import type { SecretStore } from "../../src/sidecar/secret-store";
import { SidecarStatus } from "../../src/sidecar/status";
import { createLogger } from "../../src/shared/log";
import type { Health, VaultClient } from "../../src/vault/client";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "vault-gke-loop-"));
  writeFileSync(join(dir, "admin.hcl"), 'path "sys/health" { capabilities = ["read"] }\n');
  writeFileSync(
    join(dir, "declared-access.json"),
    JSON.stringify({ format: "vault-gke/declared-access/v1", environment: "t", authMounts: [], maxTenantTtlSec: 3600, systemPolicies: ["admin"] }),
  );
  writeFileSync(join(dir, "ca.pem"), "unused");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = (overrides: Record<string, string> = {}) =>
  loadConfig({
    VAULT_ADDR: "https://127.0.0.1:8200",
    VAULT_CACERT: join(dir, "ca.pem"),
    POD_NAME: "vault-0",
    SEAL_TYPE: "auto",
    KEY_SHARES: "1",
    KEY_THRESHOLD: "1",
    GCP_PROJECT: "p",
    SECRET_INIT_RESPONSE: "t-vault-init-response",
    SECRET_ROOT_TOKEN: "t-vault-root-token",
    SECRET_PLAN_TOKEN: "t-vault-plan-token",
    SECRET_SIDECAR_TOKEN: "t-vault-sidecar-token",
    SECRET_CANARY: "t-vault-canary",
    POLICY_DIR: dir,
    DECLARED_ACCESS_FILE: join(dir, "declared-access.json"),
    AUDIT_MODE: "api",
    MIN_WAIT_MS: "1",
    MAX_WAIT_MS: "5",
    ...overrides,
  });

/** The certificate a TLS server would present (these tests have no TLS server). */
const SERVED = { expiresAt: new Date("2027-12-01T00:00:00Z"), caExpiresAt: new Date("2028-06-01T00:00:00Z"), fingerprint256: "AB:CD" };
const fakeServed = async () => SERVED;

/** Secret Manager as a map of versions; every call is recorded. */
class FakeStore implements SecretStore {
  readonly versions = new Map<string, Buffer[]>();
  readonly calls: string[] = [];
  async addVersion(secretId: string, data: Buffer): Promise<void> {
    this.calls.push(`add ${secretId}`);
    this.versions.set(secretId, [...(this.versions.get(secretId) ?? []), data]);
  }
  async accessLatest(secretId: string): Promise<Buffer | undefined> {
    this.calls.push(`read ${secretId}`);
    return this.versions.get(secretId)?.at(-1);
  }
  async testPermissions(_secretId: string, permissions: readonly string[]) {
    return { exists: true, granted: [...permissions] };
  }
}

const health = (kind: Health["kind"]): Health => ({ kind, status: 200, initialized: kind !== "uninitialized", sealed: kind === "sealed" }) as Health;

/** A Vault that answers like a fresh server: uninitialized, then active once init was called. */
function fakeVault(overrides: Partial<Record<keyof VaultClient, unknown>> = {}) {
  const calls: string[] = [];
  let initialized = false;
  let next = 0;
  const tokens = new Map<string, string[]>([["root-1", ["root"]]]);
  const vault = {
    health: async () => health(initialized ? "active" : "uninitialized"),
    leader: async () => ({ haEnabled: true, isSelf: true, leaderAddress: "https://vault-0:8200" }),
    raftPeers: async () => [],
    init: async () => {
      calls.push("init");
      initialized = true;
      return { keys: [], keys_base64: [], recovery_keys: ["k"], recovery_keys_base64: ["k"], root_token: "root-1" };
    },
    lookupSelf: async (token: string) => (tokens.has(token) ? { ttl: 3600, policies: tokens.get(token) } : undefined),
    renewSelf: async () => 3600,
    revokeSelf: async (token: string) => {
      calls.push(`revoke ${token}`);
      tokens.delete(token);
    },
    createOrphanToken: async (_root: string, opts: { policies: string[]; displayName: string }) => {
      calls.push(`create ${opts.displayName}`);
      const token = `t-${++next}`;
      tokens.set(token, opts.policies);
      return { token, accessor: `a-${next}` };
    },
    writePolicy: async (_t: string, name: string) => void calls.push(`policy ${name}`),
    listAuditDevices: async () => ({}),
    enableFileAudit: async (_t: string, path: string) => void calls.push(`enable audit ${path}`),
    read: async () => {
      throw new Error("inventory unavailable");
    },
    list: async () => [],
    ...overrides,
  };
  return { vault: vault as unknown as VaultClient, calls };
}

async function failuresByStep(status: SidecarStatus): Promise<Record<string, number>> {
  const metric = await status.registry.getSingleMetric("vault_gke_sidecar_failures_total")?.get();
  return Object.fromEntries((metric?.values ?? []).map((v) => [String(v.labels.step), v.value]));
}

const quietLog = () =>
  createLogger(
    "info",
    new Writable({
      write: (_c, _e, done) => done(),
    }),
  );

describe("the sidecar loop, with fakes", () => {
  it("initializes, stores the keys before anything else, then makes the tokens in order under the initial root and revokes it", async () => {
    const store = new FakeStore();
    const { vault, calls } = fakeVault();
    const status = new SidecarStatus("vault-0");
    const loop = new SidecarLoop({ config: config(), vault, store, log: quietLog(), status, servedCertificate: fakeServed });
    expect(await loop.pass()).toBe(true);
    expect(store.calls.filter((c) => c.startsWith("add"))).toEqual([
      "add t-vault-canary",
      "add t-vault-init-response",
      "add t-vault-root-token",
      "add t-vault-canary",
    ]);
    const stored = decode<StoredInit>(store.versions.get("t-vault-init-response")?.[0], FORMATS.init, "init response");
    expect(stored?.response.root_token).toBe("root-1");

    await loop.pass();
    expect(calls).toEqual([
      "init",
      "enable audit file",
      "enable audit stdout",
      "policy admin",
      "create vault-gke-generate-root",
      "create vault-gke-sidecar",
      "create vault-gke-plan",
      "revoke root-1",
    ]);
    const sidecar = decode<SidecarTokenRecord>(store.versions.get("t-vault-sidecar-token")?.at(-1), FORMATS.sidecar, "sidecar");
    expect(sidecar?.token).toBe("t-2");
    expect(sidecar?.policiesSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(loop.holdsUnstoredKeys).toBe(false);
  });

  it("counts each failure under the step that failed (the audit check, the policies, the inventory), and carries on", async () => {
    const store = new FakeStore();
    const { vault, calls } = fakeVault({
      listAuditDevices: async () => {
        throw new Error("audit list refused");
      },
      writePolicy: async () => {
        throw new Error("policy write refused");
      },
    });
    const status = new SidecarStatus("vault-0");
    // The initial root is kept, so the third pass needs no generate-root.
    const loop = new SidecarLoop({ config: config({ REVOKE_ROOT_TOKEN: "false" }), vault, store, log: quietLog(), status, servedCertificate: fakeServed });
    await loop.pass();
    await loop.pass();
    // The tokens are made even so; the sidecar's record does not claim the policies' digest.
    expect(calls).toEqual(["init", "create vault-gke-sidecar", "create vault-gke-plan"]);
    expect(await failuresByStep(status)).toEqual({ "check-audit": 1, "write-policies": 1 });

    expect(decode<SidecarTokenRecord>(store.versions.get("t-vault-sidecar-token")?.at(-1), FORMATS.sidecar, "sidecar")?.policiesSha256).toBe("");
    // Policies never written: the next pass tries them again, and the inventory read fails under its own name.
    await loop.pass();
    expect(await failuresByStep(status)).toEqual({ "check-audit": 2, "write-policies": 2, "read-inventory": 1 });
  });

  it("exports what the local Vault presents, reads it again only when due, and trusts a changed CA bundle from the next pass", async () => {
    const caFile = join(dir, "rotating-ca.pem");
    writeFileSync(caFile, "-----BEGIN CERTIFICATE-----\nold\n-----END CERTIFICATE-----\n");
    const trusted: string[] = [];
    const { vault } = fakeVault({ setCa: (ca: string) => trusted.push(ca) });
    const status = new SidecarStatus("vault-0");
    let reads = 0;
    const served = async (_address: string, ca: string | Buffer) => {
      reads++;
      expect(String(ca)).toContain(trusted.at(-1) ?? "old");
      return SERVED;
    };
    const loop = new SidecarLoop({
      config: config({ VAULT_CACERT: caFile, CERTIFICATE_CHECK_SEC: "3600" }),
      vault,
      store: new FakeStore(),
      log: quietLog(),
      status,
      servedCertificate: served,
    });
    await loop.pass();
    const expiry = await status.registry.getSingleMetric("vault_gke_sidecar_certificate_expiry_timestamp_seconds")?.get();
    expect(Object.fromEntries((expiry?.values ?? []).map((v) => [v.labels.certificate, v.value]))).toEqual({
      server: SERVED.expiresAt.getTime() / 1000,
      ca: SERVED.caExpiresAt.getTime() / 1000,
    });
    expect(status.snapshot().certificate).toEqual({ expiresAt: "2027-12-01T00:00:00.000Z", caExpiresAt: "2028-06-01T00:00:00.000Z", fingerprint256: "AB:CD" });
    expect(trusted).toEqual([]);

    // The kubelet swaps the mounted bundle (old and new CA): the next pass trusts it, with no restart.
    const both = "-----BEGIN CERTIFICATE-----\nold\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nnew\n-----END CERTIFICATE-----\n";
    writeFileSync(caFile, both);
    await loop.pass();
    expect(trusted).toEqual([both]);
    // A half-written file (no complete certificate) is not trusted: the bundle read before stays.
    writeFileSync(caFile, "-----BEGIN CERT");
    await loop.pass();
    expect(trusted).toEqual([both]);
    // Not due again for an hour: one handshake so far.
    expect(reads).toBe(1);
  });

  it("stops reporting the tokens' expiry and the verifier's findings once its server is no longer active, and reports them again when it is", async () => {
    const store = new FakeStore();
    let kind: Health["kind"] | undefined;
    const made = fakeVault();
    const vault = made.vault as unknown as Record<string, unknown>;
    const active = vault.health as () => Promise<Health>;
    vault.health = async () => (kind ? health(kind) : active());
    const status = new SidecarStatus("vault-0");
    const loop = new SidecarLoop({ config: config(), vault: made.vault, store, log: quietLog(), status, servedCertificate: fakeServed });
    await loop.pass();
    await loop.pass();
    status.verified([{ kind: "undeclared-mount", path: "kv/", detail: "x" } as unknown as Finding]);
    const gauges = async () => ({
      tokens: ((await status.registry.getSingleMetric("vault_gke_sidecar_token_expiry_timestamp_seconds")?.get())?.values ?? [])
        .map((v) => v.labels.token)
        .sort(),
      findings: ((await status.registry.getSingleMetric("vault_gke_verifier_findings")?.get())?.values ?? []).length,
    });
    expect(await gauges()).toEqual({ tokens: ["generate-root", "plan", "sidecar"], findings: 1 });

    // A failed health call is not a change of role: nothing is dropped.
    kind = "unreachable";
    await loop.pass();
    expect(await gauges()).toEqual({ tokens: ["generate-root", "plan", "sidecar"], findings: 1 });

    kind = "standby";
    await loop.pass();
    expect(await gauges()).toEqual({ tokens: [], findings: 0 });
    expect(status.snapshot().tokens).toEqual({});

    // Active again: the tokens are looked up anew and their expiry reported.
    kind = undefined;
    await loop.pass();
    expect((await gauges()).tokens).toEqual(["generate-root", "plan", "sidecar"]);
  });
});
