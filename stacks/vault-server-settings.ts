// The server configuration and sidecar settings the vault stack ships, as
// functions of the environment, so tests can load exactly what ships.
import { AUDIT_DEVICES } from "../contract/audit-devices";
import { secretIds } from "../contract/secret-ids";
import { storageBucketName, unsealKeyNames } from "../config/names";
import type { EnvironmentConfig } from "../config/schema";
import { distributionProfile } from "../constructs/vault-distribution";
import { VAULT_API_PORT } from "../contract/ports";
import { vaultPodHost, vaultPodNames } from "../constructs/vault-naming";
import type { VaultServerConfigProps } from "../constructs/vault-server-config";
import { DECLARED_ACCESS_FILE, VAULT_PATHS } from "../constructs/vault-stateful-set";

export function vaultServerConfigProps(env: EnvironmentConfig, storageBucket?: string): VaultServerConfigProps {
  const v = env.vault;
  const profile = distributionProfile(v.distribution);
  const kms = unsealKeyNames(env);
  return {
    tlsCertFile: `${VAULT_PATHS.tls}/tls.crt`,
    tlsKeyFile: `${VAULT_PATHS.tls}/tls.key`,
    tlsMinVersion: v.tls.minVersion,
    unauthenticatedMetrics: v.unauthenticatedMetrics,
    storage:
      v.storage === "raft"
        ? {
            type: "raft",
            path: VAULT_PATHS.data,
            caCertFile: `${VAULT_PATHS.tls}/ca.crt`,
            peers: vaultPodNames(v.replicas).map((pod) => ({
              apiAddr: `https://${vaultPodHost(pod, v.namespace)}:${VAULT_API_PORT}`,
              tlsServerName: vaultPodHost(pod, v.namespace),
            })),
          }
        : { type: "gcs", bucket: storageBucket ?? storageBucketName(env) },
    seal: v.seal === "gcpckms" ? { type: "gcpckms", project: env.project, region: env.region, keyRing: kms.keyRing, cryptoKey: kms.key } : { type: "shamir" },
    serviceRegistration: true,
    auditDevices: profile.auditInConfig ? AUDIT_DEVICES : [],
    // Read-after-write for every client, the sidecars and the runners included.
    disableStandbyReads: profile.standbyReadsSetting,
    ui: v.ui,
    logLevel: v.logLevel,
  };
}

/**
 * The bootstrap sidecar's environment. Plain settings only: the sidecar gets
 * its Google credentials from Workload Identity and its Vault tokens from
 * Secret Manager, never from here.
 */
export function bootstrapEnvironment(env: EnvironmentConfig): Record<string, string> {
  const ids = secretIds(env.name);
  const v = env.vault;
  return {
    VAULT_ADDR: `https://127.0.0.1:${VAULT_API_PORT}`,
    VAULT_CACERT: `${VAULT_PATHS.ca}/ca.crt`,
    SEAL_TYPE: v.seal === "gcpckms" ? "auto" : "shamir",
    STORAGE_TYPE: v.storage,
    KEY_SHARES: String(v.keyShares),
    KEY_THRESHOLD: String(v.keyThreshold),
    GCP_PROJECT: env.project,
    SECRET_INIT_RESPONSE: ids.initResponse,
    SECRET_ROOT_TOKEN: ids.rootToken,
    SECRET_PLAN_TOKEN: ids.planToken,
    SECRET_SIDECAR_TOKEN: ids.sidecarToken,
    SECRET_CANARY: ids.canary,
    POLICY_DIR: VAULT_PATHS.policies,
    PLAN_TOKEN_PERIOD_SEC: String(env.bootstrap.planTokenPeriod),
    DECLARED_ACCESS_FILE: `${VAULT_PATHS.policies}/${DECLARED_ACCESS_FILE}`,
    REVOKE_ROOT_TOKEN: String(env.bootstrap.revokeRootToken),
    AUDIT_MODE: distributionProfile(v.distribution).auditInConfig ? "config" : "api",
    AUDIT_FILE_PATH: AUDIT_DEVICES[0].filePath,
  };
}
