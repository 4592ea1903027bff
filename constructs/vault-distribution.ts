// What differs between HashiCorp Vault and OpenBao for this deployment.

export type Distribution = "vault" | "openbao";

export interface DistributionProfile {
  /** The server binary in the image. */
  readonly binary: "vault" | "bao";
  /** Prefix of the environment variables the server reads (VAULT_API_ADDR or BAO_API_ADDR...). */
  readonly envPrefix: "VAULT" | "BAO";
  /** The label Kubernetes service registration sets to "true" on the active pod. */
  readonly activeLabel: "vault-active" | "openbao-active";
  /**
   * OpenBao reads audit devices from the configuration and refuses them through
   * the API (CVE-2025-54997); HashiCorp Vault has no such stanza and still
   * allows the API, with restrictions (CVE-2025-6000).
   */
  readonly auditInConfig: boolean;
  /**
   * OpenBao's standbys answer reads from their own Raft copy unless disable_standby_reads
   * is set (eventual consistency: a read may miss the write before it); HashiCorp Vault's
   * standbys forward every request and have no such setting.
   */
  readonly standbyReadsSetting: boolean;
}

export function distributionProfile(distribution: Distribution): DistributionProfile {
  return distribution === "openbao"
    ? { binary: "bao", envPrefix: "BAO", activeLabel: "openbao-active", auditInConfig: true, standbyReadsSetting: true }
    : { binary: "vault", envPrefix: "VAULT", activeLabel: "vault-active", auditInConfig: false, standbyReadsSetting: false };
}
