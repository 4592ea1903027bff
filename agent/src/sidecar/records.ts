// What the sidecar keeps in Secret Manager, as versioned JSON documents, and
// how a read of one turns out: absent, readable, unreadable (bytes that are not
// this record), or an error of the store itself (403, 404, outage).
import type { InitResponse } from "../vault/client";

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

/** A token the sidecar made and keeps renewing: the read-only plan token, or its own. */
export interface TokenRecord<F extends string = string> {
  readonly format: F;
  readonly token: string;
  readonly accessor: string;
  /** Digest of the policy files written when this record was stored (the sidecar's own record carries it). */
  readonly policiesSha256?: string;
  readonly storedAt: string;
}

export type PlanTokenRecord = TokenRecord<"vault-gke/plan-token/v1">;
export type SidecarTokenRecord = TokenRecord<"vault-gke/sidecar-token/v1">;

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

export const FORMATS = {
  init: "vault-gke/init-response/v1",
  canary: "vault-gke/canary/v1",
  plan: "vault-gke/plan-token/v1",
  sidecar: "vault-gke/sidecar-token/v1",
  root: "vault-gke/root-token/v1",
} as const;

export type RecordState<T> =
  | { readonly kind: "absent" }
  | { readonly kind: "ok"; readonly value: T }
  /** The latest version holds bytes that are not this record. */
  | { readonly kind: "unreadable"; readonly reason: string }
  /** The store refused or failed (status 0: no answer). */
  | { readonly kind: "error"; readonly status: number; readonly message: string };

const ABSENT: RecordState<never> = { kind: "absent" };

/**
 * The store did not answer for a record (no answer, throttled, a server error):
 * it may well hold one, so nothing is decided on its absence. An unreadable
 * store is never taken for an empty one.
 */
export function storeBlip(state: RecordState<unknown>): boolean {
  return state.kind === "error" && (state.status === 0 || state.status === 408 || state.status === 429 || state.status >= 500);
}

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

/** Parses a stored document, checking its format tag; never throws (a bad record is a state, not an error). */
export function parseRecord<T extends { format: string }>(data: Buffer | undefined, format: T["format"]): RecordState<T> {
  if (data === undefined) return ABSENT;
  let value: unknown;
  try {
    value = JSON.parse(data.toString("utf8"));
  } catch {
    return { kind: "unreadable", reason: `not JSON (${data.length} bytes)` };
  }
  if (!value || typeof value !== "object" || (value as { format?: unknown }).format !== format) {
    return { kind: "unreadable", reason: `not a ${format} document` };
  }
  return { kind: "ok", value: value as T };
}

/** Parses a stored document, throwing on anything but a readable record or none (for one-off readers). */
export function decode<T extends { format: string }>(data: Buffer | undefined, format: T["format"], what: string): T | undefined {
  const state = parseRecord<T>(data, format);
  if (state.kind === "ok") return state.value;
  if (state.kind === "absent") return undefined;
  throw new Error(`the latest version of the ${what} secret is ${state.kind === "unreadable" ? state.reason : "unreadable"}; inspect it in Secret Manager`);
}

export function describeRecordState(state: RecordState<unknown>): string {
  switch (state.kind) {
    case "absent":
      return "no version";
    case "ok":
      return "readable";
    case "unreadable":
      return `unreadable: ${state.reason}`;
    case "error":
      return state.status ? `HTTP ${state.status}: ${state.message}` : state.message;
  }
}
