// What the sidecar keeps in Secret Manager, as versioned JSON documents.
import type { InitResponse } from "./vault-client";

/** The whole init response, stored in one write right after init. */
export interface StoredInit {
  readonly format: "vault-gke/init-response/v1";
  readonly storedAt: string;
  readonly seal: "auto" | "shamir";
  readonly response: InitResponse;
}

/** The canary: written before init (proving the store works and recording the intent) and after the keys are stored. */
export interface CanaryRecord {
  readonly format: "vault-gke/canary/v1";
  readonly kind: "intent" | "initialized";
  readonly pod: string;
  readonly at: string;
}

export interface ProvisionerRecord {
  readonly format: "vault-gke/provisioner-token/v1";
  readonly token: string;
  readonly accessor: string;
  /** Digest of the policy files that were written when this record was stored. */
  readonly policiesSha256: string;
  readonly storedAt: string;
}

export type RootTokenRecord =
  | { readonly format: "vault-gke/root-token/v1"; readonly root_token: string; readonly storedAt: string }
  | {
      readonly format: "vault-gke/root-token/v1";
      readonly revoked: true;
      /** A token with only the generate-root policy: with the stored key shares it brings back a short-lived root. */
      readonly generateRootToken: string;
      readonly generateRootAccessor: string;
      readonly storedAt: string;
    };

/** The key shares to unseal (Shamir) or to authorize generate-root (recovery keys with auto-unseal). */
export function keySharesOf(init: StoredInit): string[] {
  const r = init.response;
  const shares = init.seal === "shamir" ? (r.keys_base64 ?? r.keys) : (r.recovery_keys_base64 ?? r.recovery_keys);
  if (!shares || shares.length === 0) throw new Error(`the stored init response has no ${init.seal === "shamir" ? "unseal" : "recovery"} keys`);
  return shares;
}

export function encode(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), "utf8");
}

/** Parses a stored document, checking its format tag; undefined when absent. */
export function decode<T extends { format: string }>(data: Buffer | undefined, format: T["format"], what: string): T | undefined {
  if (data === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(data.toString("utf8"));
  } catch {
    throw new Error(`the latest version of the ${what} secret is not JSON written by this sidecar; inspect it in Secret Manager`);
  }
  if (!value || typeof value !== "object" || (value as { format?: unknown }).format !== format) {
    throw new Error(`the latest version of the ${what} secret is not a ${format} document; inspect it in Secret Manager`);
  }
  return value as T;
}
