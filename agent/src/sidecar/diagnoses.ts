// The states a human must resolve, each with a precise message and the
// recovery steps. The sidecar reports one once (at error level, on its
// endpoint and in a metric) and keeps running: it never takes the Vault server
// out of service. A diagnosis prescribes deleting data only with proof that the
// vault holds none.
import type { SecretIds } from "../../../contract/secret-ids";
import type { CanaryRecord, RecordState, StoredInit } from "./records";
import { describeRecordState } from "./records";

export type DiagnosisCode =
  | "keys-stored-but-vault-uninitialized"
  | "half-initialized-storage"
  | "store-not-ready"
  | "init-response-unreadable"
  | "keys-lost-before-first-write"
  | "keys-gone"
  | "initialized-elsewhere"
  | "no-way-back-to-root"
  | "token-not-storable"
  | "bad-configuration"
  | "removed-from-cluster";

export interface Diagnosis {
  readonly code: DiagnosisCode;
  readonly message: string;
  readonly recovery: readonly string[];
}

/** The sidecar's five secrets (contract/secret-ids.ts names them from the environment). */
export type SecretNames = SecretIds;

export interface StoreProblem {
  readonly secret: string;
  /** missing: the secret does not exist; denied: permissions are missing; error: the store did not answer. */
  readonly problem: "missing" | "denied" | "error";
  readonly permissions?: readonly string[];
  readonly message?: string;
}

const claims = "kubectl -n <namespace> get pvc -l app.kubernetes.io/name=vault";

export function keysStoredButVaultUninitialized(stored: StoredInit, secrets: SecretNames): Diagnosis {
  return {
    code: "keys-stored-but-vault-uninitialized",
    message: `Vault is not initialized, but ${secrets.initResponse} holds the keys of an initialization stored at ${stored.storedAt}; refusing to initialize again`,
    recovery: [
      "If Vault's data was lost (deleted disks, a new cluster): restore the Raft data or a snapshot (docs/disaster-recovery.md), then restart this pod.",
      `If this really is a new Vault on purpose: disable the secret versions of ${secrets.initResponse}, ${secrets.rootToken}, ${secrets.planToken} and ${secrets.sidecarToken} (keep them until you are sure), then restart this pod.`,
    ],
  };
}

/** Init was interrupted after Raft bootstrapped and before the barrier was written: the server refuses every later init. */
export function halfInitializedStorage(pod: string, errors: readonly string[]): Diagnosis {
  return {
    code: "half-initialized-storage",
    message: `Vault refuses to initialize (${errors.join("; ") || "cluster already has state"}): an earlier init on ${pod} was cut off after Raft stored its first entries and before Vault wrote its keyring, so the vault was never initialized and holds no data (no keys were ever produced)`,
    recovery: [
      `Scale the StatefulSet to 0 (kubectl -n <namespace> scale statefulset vault --replicas=0).`,
      `Delete the data claim of ${pod} (kubectl -n <namespace> delete pvc data-${pod}) and its released disk (reclaim policy Retain); no other pod joined a vault that was never initialized.`,
      "Scale back to the configured replica count: the sidecar initializes a fresh vault and stores its keys.",
    ],
  };
}

export function storeNotReady(problems: readonly StoreProblem[], pod: string): Diagnosis {
  const lines = problems.map((p) =>
    p.problem === "missing"
      ? `${p.secret} does not exist`
      : p.problem === "denied"
        ? `${p.secret}: missing ${p.permissions?.join(", ")}`
        : `${p.secret}: the store did not answer (${p.message ?? "error"})`,
  );
  return {
    code: "store-not-ready",
    message: `not initializing: the keys would have nowhere to go (${lines.join("; ")})`,
    recovery: [
      "Apply the platform stack: it creates every secret and grants the Vault pods' Google service account roles/secretmanager.secretVersionAdder and roles/secretmanager.secretAccessor on each.",
      `Check the grants: gcloud secrets get-iam-policy <secret> for each secret named above. The sidecar on ${pod} checks again on its own and initializes once every secret is ready.`,
    ],
  };
}

export function initResponseUnreadable(state: RecordState<unknown>, secrets: SecretNames, initialized: boolean): Diagnosis {
  const why = describeRecordState(state);
  const fix =
    state.kind === "unreadable"
      ? `The latest version is not an init response: find the version the sidecar wrote (gcloud secrets versions list ${secrets.initResponse}) and add its data again as the latest version, or disable the versions written after it.`
      : state.kind === "error" && state.status === 403
        ? `Grant the Vault pods' Google service account roles/secretmanager.secretAccessor on ${secrets.initResponse} (the platform stack does).`
        : state.kind === "error" && state.status === 404
          ? `The secret ${secrets.initResponse} does not exist: restore it from your backup; the platform stack only recreates an empty one.`
          : "Secret Manager did not answer: check its status and the pod's network; the sidecar retries on its own.";
  return {
    code: "init-response-unreadable",
    message: initialized
      ? `Vault is initialized, and ${secrets.initResponse} cannot be read (${why}); the keys it holds are needed, nothing is done without them`
      : `Vault is not initialized, and ${secrets.initResponse} cannot be read (${why}); not initializing while keys of an earlier initialization may be stored there`,
    recovery: [fix, "Never delete Vault's data for this: the vault may hold data and the keys exist."],
  };
}

export function keysLostBeforeFirstWrite(canary: CanaryRecord, secrets: SecretNames): Diagnosis {
  return {
    code: "keys-lost-before-first-write",
    message: `Vault is initialized but ${secrets.initResponse} holds no keys, and the last record (${canary.pod} at ${canary.at}) is an intent to initialize with no record written after the keys were stored: the init response was lost between init and its first write, so the vault holds no data yet`,
    recovery: [
      "Scale the StatefulSet to 0 (kubectl -n <namespace> scale statefulset vault --replicas=0).",
      `Delete the data claims of every Vault pod (${claims}, then kubectl delete pvc for each), and the released disks (their reclaim policy is Retain).`,
      "Scale back to the configured replica count: the sidecar initializes a fresh vault and stores its keys.",
    ],
  };
}

export function keysGone(evidence: string, secrets: SecretNames): Diagnosis {
  return {
    code: "keys-gone",
    message: `Vault is initialized and its keys were stored (${evidence}), but ${secrets.initResponse} has no readable version now`,
    recovery: [
      `Restore the latest version of ${secrets.initResponse}: enable it if it was disabled (gcloud secrets versions enable), or restore a destroyed one within the delayed-destruction window (30 days), or from your backup; then restart this pod.`,
      "Never delete Vault's data for this: the vault holds data.",
    ],
  };
}

export function initializedElsewhere(seal: string, secrets: SecretNames): Diagnosis {
  return {
    code: "initialized-elsewhere",
    message: `Vault is initialized but ${secrets.initResponse} holds no keys and there is no record of this sidecar initializing it: it was initialized by someone else`,
    recovery: [
      `Store its init response in ${secrets.initResponse} as {"format":"vault-gke/init-response/v1","storedAt":"<time>","seal":"${seal}","response":<the init JSON>}, then restart this pod.`,
      "Or, if it holds no data, wipe its storage and let the sidecar initialize it.",
    ],
  };
}

/** OpenBao turned the unauthenticated generate-root endpoints off; without the generate-root token there is no way back to root. */
export function noWayBackToRoot(reason: string, secrets: SecretNames): Diagnosis {
  return {
    code: "no-way-back-to-root",
    message: `root is needed (${reason}) and cannot be generated: the generate-root token in ${secrets.rootToken} is missing, unreadable or no longer valid, and the server refuses unauthenticated generate-root`,
    recovery: [
      "OpenBao: add disable_unauthed_generate_root_endpoints = false to the listener stanza of the vault-config ConfigMap, restart the pods one at a time (README: upgrading safely), and the sidecar makes a new generate-root token on its own; then remove the line and restart them again.",
      "Meanwhile the sidecar keeps renewing what it holds; only what needs root (a new plan or sidecar token, changed policies) waits.",
    ],
  };
}

export function tokenNotStorable(token: string, secret: string, problem: string): Diagnosis {
  return {
    code: "token-not-storable",
    message: `a new ${token} token is needed but ${secret} cannot take it (${problem}); none is made until it can (a token that cannot be stored is revoked at once)`,
    recovery: [
      `Grant the Vault pods' Google service account roles/secretmanager.secretVersionAdder on ${secret} (the platform stack does), or check that the secret exists.`,
    ],
  };
}

export function badConfiguration(problems: readonly string[]): Diagnosis {
  return {
    code: "bad-configuration",
    message: `the sidecar's settings are not usable: ${problems.join("; ")}`,
    recovery: [
      "Fix the environment the vault stack sets on the bootstrap container (stacks/vault-server-settings.ts) and apply the vault stack; the sidecar does nothing until then and exits only when the pod stops.",
    ],
  };
}

/**
 * HashiCorp Vault (1.19 and later) seals a server the Raft cluster removed and refuses its rejoining while it keeps its data:
 * after a restore of a snapshot taken on fewer servers, every server but the one restored into. Its data is a stale copy.
 */
export function removedFromCluster(pod: string): Diagnosis {
  return {
    code: "removed-from-cluster",
    message: `${pod} was removed from the Raft cluster (sys/health 530, removed_from_cluster): it stays sealed and Vault refuses to let it rejoin with its data, a stale copy of a vault that the other servers go on serving (after a restore of a snapshot taken on fewer servers, every server but the one restored into)`,
    recovery: [
      `First check that another pod is active (vault status through the vault-active service); if none is, do not go on: restore a snapshot instead (docs/disaster-recovery.md). With break-glass, remove ${pod} from the Raft peers if vault operator raft list-peers still lists it (vault operator raft remove-peer ${pod}).`,
      `Then wipe only ${pod}'s data so it rejoins empty (docs/disaster-recovery.md, "Servers removed from the cluster after a restore"): kubectl -n <namespace> delete pvc data-${pod} --wait=false && kubectl -n <namespace> delete pod ${pod}; the new pod joins through retry_join and the sidecar unseals it with the stored keys. Delete the released disk afterwards (reclaim policy Retain).`,
    ],
  };
}
