// The three tokens the sidecar makes and keeps, and where each one lives: the
// record that holds it (in memory and in the store) and that record's secret.
import type { SecretIds } from "../../../contract/secret-ids";
import type { PlanTokenRecord, RootTokenRecord, SidecarTokenRecord } from "./records";

export type ManagedToken = "plan" | "sidecar" | "generate-root";
export type TokenRecordKey = "plan" | "sidecar" | "root";

/** The newest intact copy of each token record. */
export interface TokenRecords {
  plan?: PlanTokenRecord;
  sidecar?: SidecarTokenRecord;
  root?: RootTokenRecord;
}

/** The generate-root token lives in the root record, once the initial root token is revoked. */
export const RECORD_OF: Readonly<Record<ManagedToken, TokenRecordKey>> = { plan: "plan", sidecar: "sidecar", "generate-root": "root" };
export const SECRET_OF: Readonly<Record<TokenRecordKey, keyof SecretIds>> = { plan: "planToken", sidecar: "sidecarToken", root: "rootToken" };

type AnyTokenRecord = PlanTokenRecord | SidecarTokenRecord | RootTokenRecord;

/** The token `record` holds for `token`, if it holds one. */
export function tokenIn(record: AnyTokenRecord | undefined, token: ManagedToken): string | undefined {
  if (!record) return undefined;
  if (token === "generate-root") return "revoked" in record ? record.generateRootToken : undefined;
  return "token" in record ? record.token : undefined;
}

/** The accessor of the token `record` holds for `token`, if it holds one. */
export function accessorIn(record: AnyTokenRecord | undefined, token: ManagedToken): string | undefined {
  if (!record) return undefined;
  if (token === "generate-root") return "revoked" in record ? record.generateRootAccessor : undefined;
  return "accessor" in record ? record.accessor : undefined;
}
