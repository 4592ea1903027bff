// The active vault's upkeep as pure functions: facts in, tasks out, and how
// the loop carries them out.
import {
  auditAction,
  converged,
  lanes,
  MINT_ORDER,
  needsRoot,
  planMaintenance,
  rootBatch,
  rootNeeds,
  rootUnobtainable,
  unstorableDiagnosis,
  type MaintenanceFacts,
  type Task,
} from "../../src/sidecar/maintenance-plan";
import { FORMATS } from "../../src/sidecar/records";
import { tokenPeriods, tokenRecord, tokenSpec } from "../../src/sidecar/token-specs";

const secrets = { initResponse: "e-init", rootToken: "e-root", planToken: "e-plan", sidecarToken: "e-sidecar", canary: "e-canary" };

describe("planMaintenance", () => {
  const plan = { format: "vault-gke/plan-token/v1" as const, token: "p", accessor: "pa", storedAt: "t" };
  const sidecar = { format: "vault-gke/sidecar-token/v1" as const, token: "s", accessor: "sa", policiesSha256: "h1", storedAt: "t" };
  const root = { format: "vault-gke/root-token/v1" as const, revoked: true as const, generateRootToken: "g", generateRootAccessor: "ga", storedAt: "t" };
  const valid = (ttlSec = 3500) => ({ kind: "valid" as const, ttlSec });
  const steady: MaintenanceFacts = {
    canary: { kind: "ok", value: { format: "vault-gke/canary/v1", kind: "initialized", pod: "vault-0", at: "t" } },
    policiesSha256: "h1",
    records: { plan: { kind: "ok", value: plan }, sidecar: { kind: "ok", value: sidecar }, root: { kind: "ok", value: root } },
    remembered: { plan, sidecar, root },
    tokens: { plan: valid(), sidecar: valid(), "generate-root": valid(2_700_000) },
    periods: { plan: 3600, sidecar: 3600, "generate-root": 2_764_800 },
    initialRootValid: false,
    revokeRootToken: true,
    unwritable: {},
    now: 1000,
    tenantPoliciesDueAt: 2000,
    verifyDueAt: 2000,
  };
  const kinds = (m: MaintenanceFacts) => planMaintenance(m).map((t) => ("token" in t ? `${t.kind}:${t.token}` : t.kind));

  // Issue 17, defect 10: after a restart nothing is remembered, and a record the store did not return is not a missing one.
  it("mints nothing and reports nothing while a token's record does not come back after a restart (503, 429, no answer)", () => {
    for (const blip of [503, 429, 0]) {
      const failed = { kind: "error" as const, status: blip, message: "unavailable" };
      const restarted: MaintenanceFacts = {
        ...steady,
        records: { plan: failed, sidecar: { kind: "ok", value: sidecar }, root: failed },
        remembered: { sidecar },
        tokens: { ...steady.tokens, plan: { kind: "unknown" }, "generate-root": { kind: "unknown" } },
      };
      expect(kinds(restarted)).toEqual([]);
      expect(unstorableDiagnosis({ ...restarted, unwritable: { plan: "no answer", root: "no answer" } }, secrets)).toBeUndefined();
      // With its own record missing too, it does not write the policies (that needs root, which needs the root record).
      const blind: MaintenanceFacts = {
        ...restarted,
        records: { ...restarted.records, sidecar: failed },
        remembered: {},
        tokens: { ...restarted.tokens, sidecar: { kind: "unknown" } },
      };
      expect(kinds(blind)).toEqual([]);
      // Once the store says there is no record, the token is made.
      expect(kinds({ ...restarted, records: { ...restarted.records, plan: { kind: "absent" } } })).toEqual(["mint:plan"]);
    }
  });

  it("still makes a token whose record the store definitely refuses to return (403), once it is known to be writable", () => {
    const denied = { kind: "error" as const, status: 403, message: "denied" };
    const m: MaintenanceFacts = {
      ...steady,
      records: { ...steady.records, plan: denied },
      remembered: { sidecar, root },
      tokens: { ...steady.tokens, plan: { kind: "unknown" } },
    };
    expect(kinds(m)).toEqual(["mint:plan"]);
  });

  it("does nothing when everything holds, and renders tenant policies and verifies when they are due", () => {
    expect(kinds(steady)).toEqual([]);
    expect(kinds({ ...steady, now: 5000 })).toEqual(["sync-tenant-policies", "verify"]);
  });

  it("bootstraps a fresh vault: generate-root first, then its own token, the plan token, the policies, and the initial root revoked", () => {
    const fresh: MaintenanceFacts = {
      ...steady,
      canary: { kind: "ok", value: { format: "vault-gke/canary/v1", kind: "intent", pod: "vault-0", at: "t" } },
      policiesSha256: "h2",
      records: {
        plan: { kind: "absent" },
        sidecar: { kind: "absent" },
        root: { kind: "ok", value: { format: "vault-gke/root-token/v1", root_token: "r", storedAt: "t" } },
      },
      remembered: {},
      tokens: { plan: { kind: "unknown" }, sidecar: { kind: "unknown" }, "generate-root": { kind: "unknown" } },
      initialRootValid: true,
    };
    expect(kinds(fresh)).toEqual(["mark-canary-initialized", "mint:generate-root", "mint:sidecar", "mint:plan", "revoke-initial-root"]);
    expect(
      planMaintenance(fresh)
        .filter(needsRoot)
        .map((t) => t.kind),
    ).toEqual(["mint", "mint", "mint", "revoke-initial-root"]);
  });

  it("writes a garbled record again from the copy it holds, and renews nothing else", () => {
    const garbled: MaintenanceFacts = { ...steady, records: { ...steady.records, plan: { kind: "unreadable", reason: "not JSON" } } };
    expect(kinds(garbled)).toEqual(["repair-record:plan"]);
    const rootGarbled: MaintenanceFacts = { ...steady, records: { ...steady.records, root: { kind: "unreadable", reason: "not JSON" } } };
    expect(kinds(rootGarbled)).toEqual(["repair-record:generate-root"]);
  });

  it("makes a new token when the stored one is invalid or unreadable with no copy, but only if its record can be stored", () => {
    const invalid: MaintenanceFacts = { ...steady, tokens: { ...steady.tokens, plan: { kind: "invalid" } } };
    expect(kinds(invalid)).toEqual(["mint:plan"]);
    const fresh: MaintenanceFacts = {
      ...steady,
      records: { ...steady.records, plan: { kind: "unreadable", reason: "x" } },
      remembered: { ...steady.remembered, plan: undefined },
      tokens: { ...steady.tokens, plan: { kind: "unknown" } },
    };
    expect(kinds(fresh)).toEqual(["mint:plan"]);
    const unwritable: MaintenanceFacts = { ...invalid, unwritable: { plan: "missing secretmanager.versions.add" } };
    expect(kinds(unwritable)).toEqual([]);
    expect(unstorableDiagnosis(unwritable, secrets)).toMatchObject({ code: "token-not-storable" });
    expect(unstorableDiagnosis(steady, secrets)).toBeUndefined();
  });

  it("keeps renewing one token while another's record is broken", () => {
    const m: MaintenanceFacts = {
      ...steady,
      records: { ...steady.records, plan: { kind: "error", status: 403, message: "denied" } },
      tokens: { ...steady.tokens, sidecar: valid(100) },
    };
    expect(kinds(m)).toEqual(["renew:sidecar", "repair-record:plan"]);
  });

  it("renews a token past half its period", () => {
    expect(kinds({ ...steady, tokens: { ...steady.tokens, plan: valid(1700) } })).toEqual(["renew:plan"]);
  });

  it("writes the policies again when they changed", () => {
    expect(kinds({ ...steady, policiesSha256: "h2" })).toEqual(["write-policies"]);
  });

  it("retries marking the canary until it says initialized", () => {
    expect(kinds({ ...steady, canary: { kind: "error", status: 503, message: "x" } })).toEqual(["mark-canary-initialized"]);
  });

  it("revokes the initial root only once the way back to root is stored", () => {
    const initial = { ...steady, initialRootValid: true };
    expect(kinds(initial)).toEqual(["revoke-initial-root"]);
    const noWayBack: MaintenanceFacts = { ...initial, tokens: { ...steady.tokens, "generate-root": { kind: "invalid" } }, unwritable: { root: "denied" } };
    expect(kinds(noWayBack)).toEqual([]);
  });
});

describe("how maintenance tasks are carried out", () => {
  const mint = (token: "plan" | "sidecar" | "generate-root"): Task => ({ kind: "mint", token });
  const all: Task[] = [
    { kind: "mark-canary-initialized" },
    { kind: "renew", token: "plan" },
    mint("plan"),
    { kind: "write-policies" },
    { kind: "revoke-initial-root" },
    { kind: "verify" },
    { kind: "sync-tenant-policies" },
  ];

  it("puts each task in one lane: the loop alone, under root, or with the sidecar's own token", () => {
    const l = lanes(all);
    expect(l.plain.map((t) => t.kind)).toEqual(["mark-canary-initialized", "renew"]);
    expect(l.root.map((t) => t.kind)).toEqual(["mint", "write-policies", "revoke-initial-root"]);
    expect(l.sidecarToken.map((t) => t.kind)).toEqual(["verify", "sync-tenant-policies"]);
    expect([...l.plain, ...l.root, ...l.sidecarToken]).toHaveLength(all.length);
  });

  it("makes generate-root first, so the way back to root is stored before the initial root goes", () => {
    expect(MINT_ORDER).toEqual(["generate-root", "sidecar", "plan"]);
    expect(rootBatch([mint("plan"), mint("generate-root"), mint("sidecar")]).mint).toEqual(["generate-root", "sidecar", "plan"]);
  });

  it("writes the policies with a new sidecar token, and records their digest in the old record only when no sidecar token is made", () => {
    expect(rootBatch([mint("sidecar")])).toEqual({ writePolicies: true, mint: ["sidecar"], recordPolicyDigest: false, revokeInitialRoot: false });
    expect(rootBatch([{ kind: "write-policies" }])).toEqual({ writePolicies: true, mint: [], recordPolicyDigest: true, revokeInitialRoot: false });
    expect(rootBatch([mint("plan"), { kind: "revoke-initial-root" }])).toEqual({
      writePolicies: false,
      mint: ["plan"],
      recordPolicyDigest: false,
      revokeInitialRoot: true,
    });
  });

  it("has converged when only periodic work is left", () => {
    expect(converged([{ kind: "renew", token: "plan" }, { kind: "verify" }, { kind: "sync-tenant-policies" }])).toBe(true);
    expect(converged([])).toBe(true);
    for (const t of [
      mint("plan"),
      { kind: "write-policies" } as Task,
      { kind: "repair-record", token: "plan" } as Task,
      { kind: "mark-canary-initialized" } as Task,
    ])
      expect(converged([t])).toBe(false);
  });

  it("says in words what needed root", () => {
    expect(rootNeeds([mint("generate-root"), { kind: "write-policies" }])).toBe("a new generate-root token, write-policies");
  });

  it("takes only a definite refusal of generate-root for no way back to root; a server error is retried", () => {
    for (const s of [400, 403, 404, 405]) expect(rootUnobtainable(s)).toBe(true);
    for (const s of [429, 500, 502, 503]) expect(rootUnobtainable(s)).toBe(false);
    // A collision with another generate-root (each cancels an attempt it finds) is retried, not a diagnosis.
    expect(rootUnobtainable(400, ["nonce must match the current nonce value"])).toBe(false);
    expect(rootUnobtainable(400, ["root generation already in progress"])).toBe(false);
    expect(rootUnobtainable(400, ["unauthenticated root generation is disabled"])).toBe(true);
  });

  it("enables the file and stdout audit devices in api mode, each only while it is missing; in config mode only reports none", () => {
    const file = { path: "file", filePath: "/vault/audit/audit.log" };
    const stdout = { path: "stdout", filePath: "stdout" };
    expect(auditAction("api", [], "/vault/audit/audit.log")).toEqual({ kind: "enable", devices: [file, stdout] });
    expect(auditAction("api", ["file/"], "/vault/audit/audit.log")).toEqual({ kind: "enable", devices: [stdout] });
    expect(auditAction("api", ["file/", "stdout/"], "/vault/audit/audit.log")).toEqual({ kind: "none" });
    expect(auditAction("config", [], "/vault/audit/audit.log")).toEqual({ kind: "report-missing" });
    expect(auditAction("config", ["file/"], "/vault/audit/audit.log")).toEqual({ kind: "none" });
  });
});

describe("token specs", () => {
  it("gives each token its own policy, period and name", () => {
    expect(tokenSpec("plan", 1800)).toEqual({ policy: "vault-gke-plan", periodSec: 1800, displayName: "vault-gke-plan" });
    expect(tokenSpec("sidecar", 1800)).toEqual({ policy: "vault-gke-sidecar", periodSec: 3600, displayName: "vault-gke-sidecar" });
    expect(tokenSpec("generate-root", 1800)).toEqual({ policy: "generate-root", periodSec: 768 * 3600, displayName: "vault-gke-generate-root" });
    expect(tokenPeriods(1800)).toEqual({ plan: 1800, sidecar: 3600, "generate-root": 768 * 3600 });
  });

  it("stores each token in its record's format; only the sidecar's carries the policies' digest", () => {
    const created = { token: "t", accessor: "a" };
    expect(tokenRecord("plan", created, "d", "now")).toEqual({ format: FORMATS.plan, token: "t", accessor: "a", storedAt: "now" });
    expect(tokenRecord("sidecar", created, "d", "now")).toEqual({ format: FORMATS.sidecar, token: "t", accessor: "a", policiesSha256: "d", storedAt: "now" });
    expect(tokenRecord("generate-root", created, "d", "now")).toEqual({
      format: FORMATS.root,
      revoked: true,
      generateRootToken: "t",
      generateRootAccessor: "a",
      storedAt: "now",
    });
  });
});
