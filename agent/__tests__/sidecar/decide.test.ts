// The sidecar's decisions, one fault per case: facts in, the next step out.
import { decide, type Facts } from "../../src/sidecar/decide";
import type { StoredInit } from "../../src/sidecar/records";
import { healthKind, type Health } from "../../src/vault/client";

const secrets = { initResponse: "e-init", rootToken: "e-root", planToken: "e-plan", sidecarToken: "e-sidecar", canary: "e-canary" };
const stored: StoredInit = {
  format: "vault-gke/init-response/v1",
  storedAt: "2026-11-29T10:00:00Z",
  seal: "shamir",
  response: { keys_base64: ["k"], root_token: "r" },
};
const health = (kind: Health["kind"]): Health => ({ kind, status: 0 });

function facts(over: Partial<Facts>): Facts {
  return {
    health: health("uninitialized"),
    pod: "vault-0",
    initializer: true,
    seal: "shamir",
    storage: "raft",
    secrets,
    holdsUnstoredKeys: false,
    init: { kind: "absent" },
    ...over,
  };
}

describe("decide", () => {
  it("stores keys held in memory before anything else, whatever the server says", () => {
    for (const kind of ["unreachable", "sealed", "active", "uninitialized"] as const)
      expect(decide(facts({ health: health(kind), holdsUnstoredKeys: true })).kind).toBe("store-keys");
  });

  describe("an uninitialized vault, on the first pod", () => {
    it("checks every secret before it initializes, and initializes only when all are ready", () => {
      expect(decide(facts({})).kind).toBe("gather-preflight");
      expect(decide(facts({ preflight: [] })).kind).toBe("initialize");
    });

    it("does not initialize when a secret is missing or lacks a grant, and says which", () => {
      const d = decide(
        facts({
          preflight: [
            { secret: "e-init", problem: "denied", permissions: ["secretmanager.versions.add"] },
            { secret: "e-root", problem: "missing" },
          ],
        }),
      );
      expect(d).toMatchObject({ kind: "diagnose", diagnosis: { code: "store-not-ready" } });
      if (d.kind === "diagnose") expect(d.diagnosis.message).toContain("e-init: missing secretmanager.versions.add; e-root does not exist");
    });

    it("refuses to initialize again when keys are stored", () => {
      expect(decide(facts({ init: { kind: "ok", value: stored } }))).toMatchObject({
        kind: "diagnose",
        diagnosis: { code: "keys-stored-but-vault-uninitialized" },
      });
    });

    it("never takes an unreadable init response for no keys, and checks the secrets first", () => {
      expect(decide(facts({ init: { kind: "error", status: 403, message: "denied" } })).kind).toBe("gather-preflight");
      for (const init of [
        { kind: "error", status: 403, message: "denied" },
        { kind: "error", status: 0, message: "timeout" },
        { kind: "unreadable", reason: "not JSON" },
      ] as const) {
        expect(decide(facts({ init, preflight: [] }))).toMatchObject({ kind: "diagnose", diagnosis: { code: "init-response-unreadable" } });
      }
    });

    it("diagnoses a half-written initialization (Raft state, no keyring) and prescribes wiping only the pod that never held data", () => {
      const d = decide(facts({ preflight: [], initRefused: { status: 400, errors: ["failed to initialize barrier: cluster already has state"] } }));
      expect(d).toMatchObject({ kind: "diagnose", diagnosis: { code: "half-initialized-storage" } });
      if (d.kind === "diagnose") expect(d.diagnosis.recovery.join(" ")).toContain("delete pvc data-vault-0");
    });

    it("retries an init refused for another reason", () => {
      expect(decide(facts({ preflight: [], initRefused: { status: 503, errors: ["Vault is sealed"] } })).kind).toBe("initialize");
    });
  });

  it("lets followers join instead of initializing", () => {
    expect(decide(facts({ initializer: false })).kind).toBe("wait");
    expect(decide(facts({ initializer: false, init: { kind: "ok", value: stored } }))).toMatchObject({ kind: "unseal" });
    expect(decide(facts({ initializer: false, init: { kind: "ok", value: stored }, seal: "auto" })).kind).toBe("wait");
  });

  it("unseals a sealed Shamir vault with the stored keys, and waits for auto-unseal", () => {
    expect(decide(facts({ health: health("sealed"), init: { kind: "ok", value: stored } }))).toMatchObject({ kind: "unseal" });
    expect(decide(facts({ health: health("sealed"), seal: "auto" })).kind).toBe("wait");
  });

  it("diagnoses a server removed from the Raft cluster (HashiCorp Vault, sys/health 530), whatever is stored, and never wipes it itself", () => {
    expect(healthKind(530)).toBe("removed");
    for (const init of [{ kind: "ok", value: stored } as const, { kind: "absent" } as const]) {
      for (const seal of ["shamir", "auto"] as const) {
        const d = decide(facts({ health: health("removed"), pod: "vault-2", initializer: false, init, seal }));
        expect(d).toMatchObject({ kind: "diagnose", diagnosis: { code: "removed-from-cluster" } });
        if (d.kind !== "diagnose") throw new Error("unreachable");
        expect(d.diagnosis.message).toContain("vault-2");
        // The recovery names the runbook step, checks first that another server serves, removes the peer, and wipes only this pod's claim.
        expect(d.diagnosis.recovery.join("\n")).toContain('docs/disaster-recovery.md, "Servers removed from the cluster after a restore"');
        expect(d.diagnosis.recovery[0]).toContain("remove-peer vault-2");
        expect(d.diagnosis.recovery[1]).toContain("delete pvc data-vault-2 ");
      }
    }
  });

  describe("an initialized vault whose keys are not in the store", () => {
    const base = { health: health("sealed") as Health, init: { kind: "absent" } as const };

    it("gathers the canary and the evidence first", () => {
      expect(decide(facts(base)).kind).toBe("gather-canary");
      expect(decide(facts({ ...base, canary: { kind: "absent" } })).kind).toBe("gather-evidence");
    });

    it("prescribes wiping only with proof: an intent and no record written after the keys were stored", () => {
      const intent = { kind: "ok" as const, value: { format: "vault-gke/canary/v1" as const, kind: "intent" as const, pod: "vault-0", at: "t" } };
      const lost = decide(facts({ ...base, canary: intent, keysStoredEvidence: null }));
      expect(lost).toMatchObject({ kind: "diagnose", diagnosis: { code: "keys-lost-before-first-write" } });
      // A stale intent (its "initialized" write failed) with a record written later: the vault may hold data.
      const gone = decide(facts({ ...base, canary: intent, keysStoredEvidence: "e-root holds a record stored at t" }));
      expect(gone).toMatchObject({ kind: "diagnose", diagnosis: { code: "keys-gone" } });
      if (gone.kind === "diagnose") expect(JSON.stringify(gone.diagnosis)).not.toMatch(/delete pvc/i);
    });

    it("leaves the wipe to the pod whose intent it is: another pod may still be storing the keys it holds", () => {
      const intent = { kind: "ok" as const, value: { format: "vault-gke/canary/v1" as const, kind: "intent" as const, pod: "vault-0", at: "t" } };
      for (const health_ of [health("standby"), health("sealed"), health("active")] as Health[]) {
        const d = decide(facts({ ...base, health: health_, pod: "vault-1", initializer: false, canary: intent, keysStoredEvidence: null }));
        expect(d).toEqual({ kind: "wait", why: "vault-0 initialized this vault at t; its sidecar stores the keys or reports their loss" });
      }
      expect(decide(facts({ ...base, canary: intent, keysStoredEvidence: null }))).toMatchObject({
        kind: "diagnose",
        diagnosis: { code: "keys-lost-before-first-write" },
      });
    });

    it("never prescribes wiping when the canary itself cannot be read", () => {
      const d = decide(facts({ ...base, canary: { kind: "error", status: 503, message: "unavailable" }, keysStoredEvidence: null }));
      expect(d.kind).toBe("diagnose");
      if (d.kind === "diagnose") expect(JSON.stringify(d.diagnosis)).not.toMatch(/delete pvc/i);
    });

    it("says the vault was initialized elsewhere when there is no record of this sidecar", () => {
      expect(decide(facts({ ...base, canary: { kind: "absent" }, keysStoredEvidence: null }))).toMatchObject({
        kind: "diagnose",
        diagnosis: { code: "initialized-elsewhere" },
      });
    });

    it("diagnoses an unreadable init response on a standby or active vault too", () => {
      for (const kind of ["standby", "active"] as const) {
        expect(decide(facts({ health: health(kind), init: { kind: "error", status: 404, message: "gone" } }))).toMatchObject({
          kind: "diagnose",
          diagnosis: { code: "init-response-unreadable" },
        });
      }
    });
  });

  it("maintains an active vault whose keys are stored", () => {
    expect(decide(facts({ health: health("active"), init: { kind: "ok", value: stored } }))).toMatchObject({ kind: "maintain" });
  });
});
