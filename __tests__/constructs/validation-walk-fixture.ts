// Shared by construct-validation-walk.test.ts and its case tables (validation-walks-*.ts): the shape of a
// walk, and construct props that are valid but for the one each case breaks.
import { App, TerraformStack } from "cdktf";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GkeClusterProps } from "../../constructs/gke-cluster";
import type { PostgresEngineProps } from "../../config/postgres-engine-settings";
import { distributionProfile } from "../../constructs/vault-distribution";
import type { VaultNodePoolProps } from "../../constructs/vault-node-pool";
import type { VaultSnapshotJobProps } from "../../constructs/vault-snapshot-job";
import type { VaultStatefulSetProps } from "../../constructs/vault-stateful-set";
import type { VaultTenantProps } from "../../constructs/vault-tenant";

export type Overrides = Record<string, unknown>;

export const stack = () => new TerraformStack(new App({ outdir: join(tmpdir(), "vault-gke-unused"), stackTraces: false }), "s");

// Props that are valid but for the one each case breaks.
export const nodePool: VaultNodePoolProps = {
  project: "p",
  clusterName: "c",
  clusterLocation: "r",
  zones: ["a", "b", "c"],
  serviceAccountEmail: "e",
  nodesPerZone: 1,
  machineType: "m",
  diskSizeGb: 50,
  diskType: "pd-balanced",
};
export const gkeCluster: GkeClusterProps = {
  project: "p",
  region: "r",
  name: "c",
  zones: ["a", "b", "c"],
  networkId: "n",
  subnetworkId: "s",
  podsRangeName: "p",
  servicesRangeName: "s",
  masterIpv4CidrBlock: "172.16.0.0/28",
  masterAuthorizedNetworks: [{ cidrBlock: "10.0.0.0/8", displayName: "x" }],
  nodeServiceAccountEmail: "e",
  keyRingId: "k",
  releaseChannel: "REGULAR",
  deletionProtection: true,
};
export const tenant: VaultTenantProps = {
  tenant: "t",
  authBackendPath: "kubernetes-c",
  audience: "vault",
  databaseMaxLeaseTtlSec: 3600,
  serviceAccounts: ["sa"],
  namespaces: ["ns"],
  tokenTtlSec: 1800,
  tokenMaxTtlSec: 3600,
  kvMaxVersions: 10,
};
export const statefulSet: VaultStatefulSetProps = {
  namespace: "vault",
  serviceAccountName: "vault",
  image: "hashicorp/vault:2.1.1",
  distribution: distributionProfile("vault"),
  replicas: 3,
  serverConfig: "ui = true\n",
  policies: {},
  declaredAccessJson: "{}",
  tlsSecretName: "vault-tls",
  placement: { label: { key: "k", value: "v" }, taint: { key: "k", value: "v", effect: "NoSchedule" } },
  storageClassName: "sc",
  bootstrapImage: "bootstrap:1",
  bootstrapEnv: {},
  dataVolumeSizeGb: 10,
  auditVolumeSizeGb: 10,
  resources: { cpuRequest: "500m", memoryRequest: "512Mi", cpuLimit: "2", memoryLimit: "1Gi" },
  preStopDelaySec: 5,
  terminationGracePeriodSec: 60,
};
export const snapshotJob: VaultSnapshotJobProps = {
  namespace: "vault",
  serviceAccountName: "vault-snapshot",
  googleServiceAccountEmail: "e",
  image: "bootstrap:1",
  schedule: "0 * * * *",
  maxAgeSec: 7200,
  bucket: "b",
  environment: "e",
  vaultAddress: "https://vault-active.vault.svc:8200",
  tlsSecretName: "vault-tls",
  tokenAudience: "vault",
  placement: statefulSet.placement,
  spoolSizeGb: 10,
};
export const postgres: PostgresEngineProps = {
  host: "db",
  port: 5432,
  database: "d",
  username: "u",
  schema: "public",
  access: "readonly",
  sslMode: "verify-full",
  defaultTtlSec: 900,
  maxTtlSec: 3600,
};
export const applyRole = {
  applyServiceAccounts: ["a@p.iam.gserviceaccount.com"],
  audience: "https://vault:8200",
  policy: "provisioner",
  ttlSec: 900,
  maxTtlSec: 1200,
};
export const serverConfig = { tlsCertFile: "c", tlsKeyFile: "k", tlsMinVersion: "tls12", ui: true, logLevel: "info", seal: { type: "shamir" } } as const;

export type Unreachable =
  /** The environment schema refuses every input that would reach the throw: this one, with its field, value and fix. */
  | { readonly by: "environment schema"; readonly overrides: Overrides; readonly field: string; readonly says: string }
  /** The tenant file's schema or loader refuses it (the rules that need the environment, such as its TTL ceiling, live in the loader). */
  | { readonly by: "tenant file"; readonly overrides: Overrides; readonly field: string; readonly says: string }
  /** The stacks never pass such a value; `show` synthesizes the closest valid environment and checks what it got instead. */
  | { readonly by: "stacks"; readonly why: string; readonly show: () => void };

export interface Walk {
  /** The source file and a piece of the throw's line that tells it from the file's other throws. */
  readonly file: string;
  readonly throws: string;
  /** Trips the throw directly, with the message it gives. */
  readonly trip: () => unknown;
  readonly message: RegExp;
  readonly unreachable: Unreachable;
}

/** A walk of one kind (each case table holds one kind). */
export type WalkBy<By extends Unreachable["by"]> = Walk & { readonly unreachable: { readonly by: By } };
