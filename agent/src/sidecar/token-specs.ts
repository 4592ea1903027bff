// The tokens the sidecar makes, as data: the policy and period of each, and
// the record that stores it. Pure: root-session.ts creates the token and
// writes the record these functions describe.
import { POLICY } from "../../../contract/vault-names";
import type { ManagedToken } from "./managed-tokens";
import { FORMATS, type PlanTokenRecord, type RootTokenRecord, type SidecarTokenRecord } from "./records";

/** The generate-root token's period: long, because it is the way back to root when every other token is gone. */
export const GENERATE_ROOT_PERIOD_SEC = 768 * 3600;
export const SIDECAR_TOKEN_PERIOD_SEC = 3600;

export interface TokenSpec {
  readonly policy: string;
  readonly periodSec: number;
  readonly displayName: string;
}

/** Each token's period; the plan token's is the environment's (PLAN_TOKEN_PERIOD_SEC). */
export function tokenPeriods(planTokenPeriodSec: number): Readonly<Record<ManagedToken, number>> {
  return { plan: planTokenPeriodSec, sidecar: SIDECAR_TOKEN_PERIOD_SEC, "generate-root": GENERATE_ROOT_PERIOD_SEC };
}

export function tokenSpec(token: ManagedToken, planTokenPeriodSec: number): TokenSpec {
  const periodSec = tokenPeriods(planTokenPeriodSec)[token];
  switch (token) {
    case "plan":
      return { policy: POLICY.plan, periodSec, displayName: "vault-gke-plan" };
    case "sidecar":
      return { policy: POLICY.sidecar, periodSec, displayName: "vault-gke-sidecar" };
    case "generate-root":
      return { policy: POLICY.generateRoot, periodSec, displayName: "vault-gke-generate-root" };
  }
}

/** The record that stores a new token (the sidecar's also carries the digest of the policies written with it). */
export function tokenRecord(
  token: ManagedToken,
  created: { readonly token: string; readonly accessor: string },
  policiesSha256: string,
  storedAt: string,
): PlanTokenRecord | SidecarTokenRecord | RootTokenRecord {
  switch (token) {
    case "generate-root":
      return {
        format: FORMATS.root,
        revoked: true,
        generateRootToken: created.token,
        generateRootAccessor: created.accessor,
        storedAt,
      } satisfies RootTokenRecord;
    case "plan":
      return { format: FORMATS.plan, token: created.token, accessor: created.accessor, storedAt } satisfies PlanTokenRecord;
    case "sidecar":
      return { format: FORMATS.sidecar, token: created.token, accessor: created.accessor, policiesSha256, storedAt } satisfies SidecarTokenRecord;
  }
}
