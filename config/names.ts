// Names derived from an environment that more than one stack (and the sidecar)
// must agree on. Pure functions of the config: no cdktf here.
import type { EnvironmentConfig } from "./schema";

/** Pinned defaults: current patched releases, checked against the vendors' advisories (see README). */
export const DEFAULT_IMAGES = {
  vault: "hashicorp/vault:2.1.1",
  openbao: "ghcr.io/openbao/openbao:2.7.2",
} as const;

export interface SecretIds {
  /** Recovery keys (auto-unseal) or unseal keys (Shamir), with the root token: the whole init response. */
  readonly initResponse: string;
  readonly rootToken: string;
  readonly provisionerToken: string;
  /** Written and read before init to prove the store works; never holds a key. */
  readonly canary: string;
}

export function secretIds(env: EnvironmentConfig): SecretIds {
  const prefix = `${env.name}-vault`;
  return {
    initResponse: `${prefix}-init-response`,
    rootToken: `${prefix}-root-token`,
    provisionerToken: `${prefix}-provisioner-token`,
    canary: `${prefix}-canary`,
  };
}

export function vaultImage(env: EnvironmentConfig): string {
  return env.vault.image ?? DEFAULT_IMAGES[env.vault.distribution];
}

/** The Kubernetes service account of the Vault pods (Workload Identity binds it). */
export const VAULT_KSA = "vault";

export function vaultAddress(env: EnvironmentConfig): string {
  return env.tenancy.vaultAddress ?? `https://${env.vault.hostname}:8200`;
}

export function commonLabels(env: EnvironmentConfig): Record<string, string> {
  return { ...env.labels, "managed-by": "vault-gke", environment: env.name };
}

export function stackNames(env: EnvironmentConfig) {
  return { platform: `${env.name}-platform`, vault: `${env.name}-vault`, tenants: `${env.name}-tenants` } as const;
}

/** The auto-unseal key ring and key, as Vault's gcpckms seal names them. */
export function unsealKeyNames(env: EnvironmentConfig): { keyRing: string; key: string } {
  return { keyRing: `${env.name}-${env.kms.keyRing}`, key: env.kms.key };
}

export interface ArtifactRegistryRepository {
  readonly project: string;
  readonly location: string;
  readonly repository: string;
}

/** The Artifact Registry repository an image lives in (LOCATION-docker.pkg.dev/PROJECT/REPOSITORY/...), if any. */
export function artifactRegistryRepository(image: string): ArtifactRegistryRepository | undefined {
  const m = /^([a-z0-9-]+)-docker\.pkg\.dev\/([a-z][a-z0-9-]{4,28}[a-z0-9])\/([a-z0-9._-]+)\//.exec(image);
  return m ? { location: m[1], project: m[2], repository: m[3] } : undefined;
}
