// Names derived from an environment that more than one stack (and the sidecar)
// must agree on. Pure functions of the config: no cdktf here.
import { VAULT_API_PORT } from "../contract/ports";
import type { EnvironmentConfig } from "./schema";

/** Pinned defaults: current patched releases, checked against the vendors' advisories (see README). */
export const DEFAULT_IMAGES = {
  vault: "hashicorp/vault:2.1.1",
  openbao: "ghcr.io/openbao/openbao:2.7.2",
} as const;

/** Secret Manager secrets holding tenants' database admin passwords: <env>-tenant-postgres-<tenant>; only apply runners read them. */
export function postgresPasswordSecretPrefix(env: EnvironmentConfig): string {
  return `${env.name}-tenant-postgres-`;
}

export function vaultImage(env: EnvironmentConfig): string {
  return env.vault.image ?? DEFAULT_IMAGES[env.vault.distribution];
}

/** The Kubernetes service account of the Vault pods (Workload Identity binds it). */
export const VAULT_KSA = "vault";

export function vaultAddress(env: EnvironmentConfig): string {
  return env.tenancy.vaultAddress ?? `https://${env.vault.hostname}:${VAULT_API_PORT}`;
}

/** The bucket of Vault's storage with storage: gcs (the platform stack creates it, the server configuration names it). */
export function storageBucketName(env: EnvironmentConfig): string {
  return `${env.project}-${env.name}-vault-storage`;
}

export function commonLabels(env: EnvironmentConfig): Record<string, string> {
  return { ...env.labels, "managed-by": "vault-gke", environment: env.name };
}

/**
 * The environment's stacks: platform (Google), vault (Kubernetes), shared
 * (Vault access every tenant relies on, applied by an admin), and one stack
 * per tenant (applied with the provisioner credential).
 */
export function stackNames(env: EnvironmentConfig) {
  return { platform: `${env.name}-platform`, vault: `${env.name}-vault`, shared: `${env.name}-shared` } as const;
}

export function tenantStackName(env: EnvironmentConfig, tenant: string): string {
  return `${env.name}-tenant-${tenant}`;
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

/** Where a stack keeps its state in the environment's state bucket: <backend.prefix>/<stack name>/default.tfstate (the GCS backend's layout). */
export function statePrefix(env: Pick<EnvironmentConfig, "backend">, stackName: string): string {
  return `${env.backend.prefix}/${stackName}`;
}

export function stateObject(env: Pick<EnvironmentConfig, "backend">, stackName: string): string {
  return `${statePrefix(env, stackName)}/default.tfstate`;
}
