// The sidecar's decisions as pure functions: what it knows in, the next step
// out, before the vault is active (maintenance-plan.ts decides after). The loop
// (loop.ts) gathers facts, asks, does what it is told, and gathers again. Every
// fault the sidecar meets is one case here or there.
import * as D from "./diagnoses";
import type { Diagnosis, SecretNames, StoreProblem } from "./diagnoses";
import type { CanaryRecord, RecordState, StoredInit } from "./records";
import type { Health } from "../vault/client";

export interface Facts {
  readonly health: Health;
  readonly pod: string;
  readonly initializer: boolean;
  readonly seal: "auto" | "shamir";
  readonly storage: "raft" | "gcs";
  readonly secrets: SecretNames;
  /** Keys this process received from init and has not stored yet. */
  readonly holdsUnstoredKeys: boolean;
  readonly init: RecordState<StoredInit>;
  /** Gathered only when a decision needs it. */
  readonly canary?: RecordState<CanaryRecord>;
  /** What proves the keys were stored once (a record written only after that), if anything. */
  readonly keysStoredEvidence?: string | null;
  /** Whether every secret is ready for the keys (gathered right before an init). */
  readonly preflight?: readonly StoreProblem[];
  /** The server's refusal of this process's last init, if it refused. */
  readonly initRefused?: { readonly status: number; readonly errors: readonly string[] };
}

export type Decision =
  | { readonly kind: "wait"; readonly why: string }
  | { readonly kind: "store-keys" }
  | { readonly kind: "gather-canary" }
  | { readonly kind: "gather-evidence" }
  | { readonly kind: "gather-preflight" }
  | { readonly kind: "initialize" }
  | { readonly kind: "unseal"; readonly init: StoredInit }
  | { readonly kind: "diagnose"; readonly diagnosis: Diagnosis }
  | { readonly kind: "maintain"; readonly init: StoredInit };

/** Raft bootstrapped before the init was cut off: every later init is refused with this. */
const HALF_INITIALIZED = /already has state|already initialized.*raft|raft.*already/i;

export function decide(f: Facts): Decision {
  // Keys in memory come first: nothing else matters until they are stored.
  if (f.holdsUnstoredKeys) return { kind: "store-keys" };
  const h = f.health;
  switch (h.kind) {
    case "unreachable":
    case "unexpected":
    case "dr-secondary":
      return { kind: "wait", why: `vault is ${h.kind}` };
    case "removed":
      // Its data is a stale copy of a vault that goes on without it; Vault refuses its rejoining until a human wipes it (never the sidecar).
      return { kind: "diagnose", diagnosis: D.removedFromCluster(f.pod) };
    case "uninitialized":
      return uninitialized(f);
    case "sealed":
      if (f.seal !== "shamir") return { kind: "wait", why: "auto-unseal: vault unseals itself once it reaches its key" };
      return f.init.kind === "ok" ? { kind: "unseal", init: f.init.value } : keysMissing(f);
    case "standby":
    case "perf-standby":
      return f.init.kind === "ok" ? { kind: "wait", why: "standby" } : keysMissing(f);
    case "active":
      return f.init.kind === "ok" ? { kind: "maintain", init: f.init.value } : keysMissing(f);
  }
}

function uninitialized(f: Facts): Decision {
  if (!f.initializer) {
    // A Raft follower joins through retry_join; with Shamir it needs the keys to finish.
    if (f.init.kind === "ok" && f.seal === "shamir" && f.storage === "raft") return { kind: "unseal", init: f.init.value };
    return { kind: "wait", why: "only the first pod initializes; this one joins" };
  }
  if (f.init.kind === "ok") return { kind: "diagnose", diagnosis: D.keysStoredButVaultUninitialized(f.init.value, f.secrets) };
  if (f.initRefused && (f.initRefused.status === 400 || f.initRefused.status === 500) && f.initRefused.errors.some((e) => HALF_INITIALIZED.test(e))) {
    return { kind: "diagnose", diagnosis: D.halfInitializedStorage(f.pod, f.initRefused.errors) };
  }
  if (f.preflight === undefined) return { kind: "gather-preflight" };
  if (f.preflight.length > 0) return { kind: "diagnose", diagnosis: D.storeNotReady(f.preflight, f.pod) };
  // Whether keys exist must be known before an init: an unreadable store is never taken for an empty one.
  if (f.init.kind !== "absent") return { kind: "diagnose", diagnosis: D.initResponseUnreadable(f.init, f.secrets, false) };
  return { kind: "initialize" };
}

/** Vault is initialized and the init response is not readable: say precisely why, prescribing a wipe only with proof that no data exists. */
function keysMissing(f: Facts): Decision {
  if (f.init.kind === "unreadable" || f.init.kind === "error") return { kind: "diagnose", diagnosis: D.initResponseUnreadable(f.init, f.secrets, true) };
  if (f.canary === undefined) return { kind: "gather-canary" };
  if (f.keysStoredEvidence === undefined) return { kind: "gather-evidence" };
  if (f.keysStoredEvidence) return { kind: "diagnose", diagnosis: D.keysGone(f.keysStoredEvidence, f.secrets) };
  const canary = f.canary;
  if (canary.kind === "ok" && canary.value.kind === "initialized")
    return { kind: "diagnose", diagnosis: D.keysGone(`the canary says so since ${canary.value.at}`, f.secrets) };
  if (canary.kind === "ok" && canary.value.kind === "intent") {
    // Another pod's intent: that pod may still hold the keys and be storing them (a joined server sees the
    // vault initialized first), and only its own sidecar can tell; it prescribes the wipe if they are lost.
    if (canary.value.pod !== f.pod)
      return { kind: "wait", why: `${canary.value.pod} initialized this vault at ${canary.value.at}; its sidecar stores the keys or reports their loss` };
    return { kind: "diagnose", diagnosis: D.keysLostBeforeFirstWrite(canary.value, f.secrets) };
  }
  if (canary.kind === "absent") return { kind: "diagnose", diagnosis: D.initializedElsewhere(f.seal, f.secrets) };
  // The canary itself cannot be read: there is no proof either way, so no wipe.
  return { kind: "diagnose", diagnosis: D.initResponseUnreadable({ kind: "absent" }, f.secrets, true) };
}
