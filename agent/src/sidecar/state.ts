// What the sidecar remembers between passes, in one place, and what every
// step works with (the context). Only the loop and its steps change it.
import type { BootstrapConfig } from "./config";
import type { TokenStatus } from "./maintenance-plan";
import { accessorIn, RECORD_OF, SECRET_OF, tokenIn, type ManagedToken, type TokenRecords } from "./managed-tokens";
import type { PlanTokenRecord, RecordState, RootTokenRecord, SidecarTokenRecord, StoredInit } from "./records";
import type { SecretStore } from "./secret-store";
import type { SidecarStatus } from "./status";
import type { Logger } from "../shared/log";
import type { InitResponse, VaultClient } from "../vault/client";
import type { servedCertificate } from "../vault/served-certificate";

export type Records = { plan: RecordState<PlanTokenRecord>; sidecar: RecordState<SidecarTokenRecord>; root: RecordState<RootTokenRecord> };

interface Timed<T> {
  readonly at: number;
  readonly value: T;
}

export class SidecarState {
  /** Vault's last logged state (kind/initialized/sealed). */
  lastVaultState = "";
  /** The init response never changes once read intact. */
  init?: StoredInit;
  /** An init response held in memory until Secret Manager has it. */
  unstored?: InitResponse;
  initRefused?: { status: number; errors: string[] };
  stopRequestedAt?: number;
  /** Aborts when the stop grace period is nearly spent: ends a store attempt still under way. */
  readonly graceSpent = new AbortController();
  /** Intact copies of the token records this process read or wrote: the source for repairing a garbled record. */
  remembered: TokenRecords = {};
  canaryInitialized = false;
  initialRootRevoked = false;
  /** The last read of the token records and the last token lookups: each is a billed, audited call, so both are reused for a while. */
  records?: Timed<Records>;
  tokenChecks?: Timed<Record<ManagedToken, TokenStatus>>;
  tenantPoliciesDueAt = 0;
  verifyDueAt = 0;
  /** The CA bundle the Vault client trusts now (the mounted ca.crt as last read). */
  caBundle?: string;
  certificateCheckDueAt = 0;

  tokenOf(token: ManagedToken): string | undefined {
    return tokenIn(this.remembered[RECORD_OF[token]], token);
  }

  accessorOf(token: ManagedToken): string | undefined {
    return accessorIn(this.remembered[RECORD_OF[token]], token);
  }

  /** Something changed or failed: read the records and look the tokens up again on the next pass. */
  forgetChecks(): void {
    this.records = undefined;
    this.tokenChecks = undefined;
  }
}

export interface SidecarDeps {
  readonly config: BootstrapConfig;
  readonly vault: VaultClient;
  readonly store: SecretStore;
  readonly log: Logger;
  readonly status: SidecarStatus;
  /** Reads what the local Vault presents (a TLS handshake); tests without a TLS server give a stand-in. @default servedCertificate */
  readonly servedCertificate?: typeof servedCertificate;
}

export interface Context extends SidecarDeps {
  readonly state: SidecarState;
}

/** The Secret Manager secret that holds a token's record. */
export function secretOf(ctx: Pick<Context, "config">, token: ManagedToken): string {
  return ctx.config.secrets[SECRET_OF[RECORD_OF[token]]];
}
