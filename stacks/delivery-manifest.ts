// The delivery manifest: what the runners' scripts (deploy/atlantis/bin, the
// GitHub Actions workflows) need to know about each synthesized stack, written
// beside cdktf's manifest.json as <outdir>/vault-gke-delivery.json so that
// bash reads it with jq instead of re-deriving names. A pure function of the
// loaded configuration; main.ts writes it after app.synth().
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { EnvironmentWithTenants } from "../config/load-project";
import { APPLY_ROLE, AUTH_PATHS } from "../contract/vault-names";
import { postgresPasswordSecretPrefix, stackNames, stateObject, tenantStackName, vaultAddress } from "../config/names";
import { secretIds } from "../contract/secret-ids";

export const DELIVERY_MANIFEST_FILE = "vault-gke-delivery.json";
export const DELIVERY_MANIFEST_FORMAT = "vault-gke/delivery/v1";

/**
 * How a stack is delivered:
 * - platform, vault: Google identity only (no Vault credential);
 * - shared: planned with the read-only plan token, applied by an admin only;
 * - tenant: planned with the plan token, applied with a per-run login at auth/runner.
 */
export type StackKind = "platform" | "vault" | "shared" | "tenant";

export interface DeliveryStack {
  readonly environment: string;
  readonly kind: StackKind;
  /** The tenant's name (tenant stacks only). */
  readonly tenant?: string;
}

export interface DeliveryEnvironment {
  /** The GCP project that holds Vault, its secrets and keys. */
  readonly project: string;
  readonly region: string;
  /** What runners and the ID tokens' audience use: https://<hostname>:8200 unless tenancy.vaultAddress says otherwise. */
  readonly vaultAddress: string;
  /** Secret Manager secret with the read-only plan token (JSON, read `.token`). */
  readonly planTokenSecret: string;
  /** Secret Manager secrets <prefix><tenant> hold tenants' PostgreSQL admin passwords. */
  readonly postgresPasswordSecretPrefix: string;
  /** Where approved applies log in (JWT auth with a Google-signed ID token) and with which role. */
  readonly runnerAuthPath: string;
  readonly applyRole: string;
  /** Where the vault stack keeps its state (its vault_ca_certificate output is read from there). */
  readonly vaultState: { readonly bucket: string; readonly object: string };
  readonly planServiceAccounts: readonly string[];
  readonly applyServiceAccounts: readonly string[];
  /** The environment's stack names, in apply order (shared is applied by an admin). */
  readonly stacks: { readonly platform: string; readonly vault: string; readonly shared: string; readonly tenants: readonly string[] };
}

export interface DeliveryManifest {
  readonly format: typeof DELIVERY_MANIFEST_FORMAT;
  readonly environments: Readonly<Record<string, DeliveryEnvironment>>;
  /** Every stack, by stack name (Atlantis' $PROJECT_NAME). */
  readonly stacks: Readonly<Record<string, DeliveryStack>>;
}

export function deliveryManifest(project: readonly EnvironmentWithTenants[]): DeliveryManifest {
  const environments: Record<string, DeliveryEnvironment> = {};
  const stacks: Record<string, DeliveryStack> = {};
  for (const { env, tenants } of project) {
    const names = stackNames(env);
    const tenantNames = tenants.map((t) => t.name).sort();
    environments[env.name] = {
      project: env.project,
      region: env.region,
      vaultAddress: vaultAddress(env),
      planTokenSecret: secretIds(env.name).planToken,
      postgresPasswordSecretPrefix: postgresPasswordSecretPrefix(env),
      runnerAuthPath: AUTH_PATHS.runner,
      applyRole: APPLY_ROLE,
      vaultState: { bucket: env.backend.bucket, object: stateObject(env, names.vault) },
      planServiceAccounts: [...env.delivery.planServiceAccounts],
      applyServiceAccounts: [...env.delivery.applyServiceAccounts],
      stacks: { ...names, tenants: tenantNames.map((t) => tenantStackName(env, t)) },
    };
    stacks[names.platform] = { environment: env.name, kind: "platform" };
    stacks[names.vault] = { environment: env.name, kind: "vault" };
    stacks[names.shared] = { environment: env.name, kind: "shared" };
    for (const t of tenantNames) stacks[tenantStackName(env, t)] = { environment: env.name, kind: "tenant", tenant: t };
  }
  return { format: DELIVERY_MANIFEST_FORMAT, environments, stacks };
}

/** Writes the delivery manifest into cdktf's output folder. */
export function writeDeliveryManifest(outdir: string, project: readonly EnvironmentWithTenants[]): void {
  writeFileSync(join(outdir, DELIVERY_MANIFEST_FILE), `${JSON.stringify(deliveryManifest(project), null, 2)}\n`);
}
