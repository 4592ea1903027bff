// The Secret Manager secrets the sidecar keeps, named from the environment:
// the platform stack creates them, the vault stack hands their ids to the
// sidecar, runners read the plan token.

export interface SecretIds {
  /** Recovery keys (auto-unseal) or unseal keys (Shamir), with the root token: the whole init response. */
  readonly initResponse: string;
  /** The initial root token until it is revoked, then the generate-root token (the way back to root). */
  readonly rootToken: string;
  /** The read-only plan token runners read for their plans (worth no write anywhere). */
  readonly planToken: string;
  /** The sidecar's own token: renders tenant policies and runs the verifier; only the Vault pods read it. */
  readonly sidecarToken: string;
  /** Written and read before init to prove the store works; never holds a key. */
  readonly canary: string;
}

export function secretIds(environment: string): SecretIds {
  const prefix = `${environment}-vault`;
  return {
    initResponse: `${prefix}-init-response`,
    rootToken: `${prefix}-root-token`,
    planToken: `${prefix}-plan-token`,
    sidecarToken: `${prefix}-sidecar-token`,
    canary: `${prefix}-canary`,
  };
}
