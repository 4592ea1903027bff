// Every `throw new Error` in constructs/ and stacks/ is walked here, one case
// each: the case trips the throw (so it is about that throw), then shows why no
// environment valid to the config layer reaches it. Either the schema (or the
// tenant loader) refuses every input that would reach it, with the file, line,
// field, value and fix, or the stacks never hand the construct such a value
// (a guard, a constant). A throw that a valid environment reached would be a
// hidden combination: its rule belongs in the schema (config/schema/rules.ts),
// and main.ts would report it against the environment file (last test). The
// sources are read, so a new throw without an entry here fails the first test.
import { App, TerraformStack, Testing } from "cdktf";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { ConfigError, loadEnvironmentFile } from "../../config/load";
import { loadTenantFile } from "../../config/load-tenants";
import { AdminGcpAuth } from "../../constructs/admin-gcp-auth";
import { GkeCluster, type GkeClusterProps } from "../../constructs/gke-cluster";
import { HardenedBucket } from "../../constructs/hardened-bucket";
import { postgresEngineSettings, type PostgresEngineProps } from "../../constructs/postgres-engine-settings";
import { applyRoleSettings } from "../../constructs/runner-auth";
import { UnsealKey } from "../../constructs/unseal-key";
import { distributionProfile } from "../../constructs/vault-distribution";
import { VaultLoadBalancer } from "../../constructs/vault-load-balancer";
import { VaultNodePool, type VaultNodePoolProps } from "../../constructs/vault-node-pool";
import { renderVaultServerConfig } from "../../constructs/vault-server-config";
import { VaultServiceRegistration } from "../../constructs/vault-service-registration";
import { VaultSnapshotJob, type VaultSnapshotJobProps } from "../../constructs/vault-snapshot-job";
import { VaultStatefulSet, type VaultStatefulSetProps } from "../../constructs/vault-stateful-set";
import { VaultTenant, type VaultTenantProps } from "../../constructs/vault-tenant";
import { VaultTls } from "../../constructs/vault-tls";
import { buildEnvironmentStacks, buildProjectStacks } from "../../stacks/environment-stacks";
import { PlatformStack } from "../../stacks/platform-stack";
import { VaultStack } from "../../stacks/vault-stack";
import { vaultServerConfigProps } from "../../stacks/vault-server-settings";
import { exampleData, exampleEnv, merge, resource, resources, ROOT, synthEnvironment } from "../helpers";

type Overrides = Record<string, unknown>;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "vault-gke-walk-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const stack = () => new TerraformStack(new App({ outdir: join(tmpdir(), "vault-gke-unused"), stackTraces: false }), "s");

// Props that are valid but for the one each case breaks.
const nodePool: VaultNodePoolProps = {
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
const gkeCluster: GkeClusterProps = {
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
const tenant: VaultTenantProps = {
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
const statefulSet: VaultStatefulSetProps = {
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
const snapshotJob: VaultSnapshotJobProps = {
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
const postgres: PostgresEngineProps = {
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
const applyRole = {
  applyServiceAccounts: ["a@p.iam.gserviceaccount.com"],
  audience: "https://vault:8200",
  policy: "provisioner",
  ttlSec: 900,
  maxTtlSec: 1200,
};
const serverConfig = { tlsCertFile: "c", tlsKeyFile: "k", tlsMinVersion: "tls12", ui: true, logLevel: "info", seal: { type: "shamir" } } as const;

/** One problem line of a config error: the file, line and column, the field, and the rest of the sentence. */
function problemNaming(load: () => unknown, file: string, field: string): string {
  let problems: string[] = [];
  try {
    load();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems = [...error.problems];
  }
  const line = problems.find((p) => p.includes(`: ${field}: `));
  if (!line) throw new Error(`no problem names ${field}:\n${problems.join("\n") || "(the file loaded)"}`);
  expect(line).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+:\\d+: ${field.replace(/[.[\]]/g, "\\$&")}: `));
  expect(line).not.toMatch(/\n|\s+at .*\.ts:\d+/);
  return line;
}

let files = 0;
const environmentProblem = (overrides: Overrides, field: string) => {
  const file = join(dir, `walk${files}.yaml`);
  writeFileSync(file, stringify(merge(exampleData(), { name: `walk${files++}`, ...overrides })));
  return problemNaming(() => loadEnvironmentFile(file), file, field);
};
const tenantProblem = (overrides: Overrides, field: string) => {
  const name = `t${files++}`;
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(merge({ name, cluster: "apps-prod", namespaces: [name], serviceAccounts: ["app"] }, overrides)));
  return problemNaming(() => loadTenantFile(file, exampleEnv()), file, field);
};

type Unreachable =
  /** The environment schema refuses every input that would reach the throw: this one, with its field, value and fix. */
  | { readonly by: "environment schema"; readonly overrides: Overrides; readonly field: string; readonly says: string }
  /** The tenant file's schema or loader refuses it (the rules that need the environment, such as its TTL ceiling, live in the loader). */
  | { readonly by: "tenant file"; readonly overrides: Overrides; readonly field: string; readonly says: string }
  /** The stacks never pass such a value; `show` synthesizes the closest valid environment and checks what it got instead. */
  | { readonly by: "stacks"; readonly why: string; readonly show: () => void };

interface Walk {
  /** The source file and a piece of the throw's line that tells it from the file's other throws. */
  readonly file: string;
  readonly throws: string;
  /** Trips the throw directly, with the message it gives. */
  readonly trip: () => unknown;
  readonly message: RegExp;
  readonly unreachable: Unreachable;
}

const WALKS: Walk[] = [
  {
    file: "constructs/vault-node-pool.ts",
    throws: "list at least 3 so Vault survives",
    trip: () => new VaultNodePool(stack(), "p", { ...nodePool, zones: ["a", "b"] }),
    message: /zones lists 2 zone\(s\); list at least 3/,
    unreachable: {
      by: "environment schema",
      overrides: { zones: ["europe-west1-b", "europe-west1-c"], nodePool: { nodesPerZone: 2 } },
      field: "zones",
      says: 'got ["europe-west1-b","europe-west1-c"]; list at least 3 zones of europe-west1',
    },
  },
  {
    file: "constructs/vault-node-pool.ts",
    throws: "nodesPerZone must be a whole number",
    trip: () => new VaultNodePool(stack(), "p", { ...nodePool, nodesPerZone: 0 }),
    message: /nodesPerZone must be a whole number of at least 1, got 0/,
    unreachable: { by: "environment schema", overrides: { nodePool: { nodesPerZone: 0 } }, field: "nodePool.nodesPerZone", says: "got 0; use 1 or more" },
  },
  {
    file: "constructs/runner-auth.ts",
    throws: "applyServiceAccounts is empty",
    trip: () => applyRoleSettings({ ...applyRole, applyServiceAccounts: [] }),
    message: /applyServiceAccounts is empty/,
    unreachable: {
      by: "stacks",
      why: "the shared stack builds the runners' login only when delivery.applyServiceAccounts lists an account",
      show: () => expect(resources(synthEnvironment(exampleEnv({ delivery: { applyServiceAccounts: [] } })).shared, "vault_jwt_auth_backend")).toEqual([]),
    },
  },
  {
    file: "constructs/runner-auth.ts",
    throws: "cannot exceed maxTtlSec",
    trip: () => applyRoleSettings({ ...applyRole, ttlSec: 1500 }),
    message: /ttlSec \(1500\) cannot exceed maxTtlSec \(1200\)/,
    unreachable: {
      by: "environment schema",
      overrides: { delivery: { applyTokenTtl: "25m" } },
      field: "delivery.applyTokenTtl",
      says: 'got "25m"; the apply credential lives at most 20m; use 20m or less',
    },
  },
  {
    file: "constructs/vault-service-registration.ts",
    throws: "podNames is empty",
    trip: () => new VaultServiceRegistration(stack(), "r", { namespace: "vault", serviceAccountName: "vault", podNames: [] }),
    message: /podNames is empty/,
    unreachable: { by: "environment schema", overrides: { vault: { replicas: 0 } }, field: "vault.replicas", says: "got 0; use 1 or more" },
  },
  {
    file: "constructs/gke-cluster.ts",
    throws: "masterIpv4CidrBlock must be a /28",
    trip: () => new GkeCluster(stack(), "c", { ...gkeCluster, masterIpv4CidrBlock: "172.16.0.0/24" }),
    message: /must be a \/28, got 172\.16\.0\.0\/24/,
    unreachable: {
      by: "environment schema",
      overrides: { cluster: { masterIpv4CidrBlock: "172.16.0.0/24" } },
      field: "cluster.masterIpv4CidrBlock",
      says: 'got "172.16.0.0/24"; GKE needs a /28 for the private control plane; for example 172.16.0.0/28',
    },
  },
  {
    file: "constructs/gke-cluster.ts",
    throws: "masterAuthorizedNetworks is empty",
    trip: () => new GkeCluster(stack(), "c", { ...gkeCluster, masterAuthorizedNetworks: [] }),
    message: /masterAuthorizedNetworks is empty/,
    unreachable: {
      by: "environment schema",
      overrides: { cluster: { masterAuthorizedNetworks: [] } },
      field: "cluster.masterAuthorizedNetworks",
      says: "list at least one network that may reach the control plane (the runner of Atlantis or CI); got []",
    },
  },
  {
    file: "constructs/vault-tenant.ts",
    throws: "cannot exceed tokenMaxTtlSec",
    trip: () => new VaultTenant(stack(), "t", { ...tenant, tokenTtlSec: 3600, tokenMaxTtlSec: 1800 }),
    message: /tokenTtlSec \(3600\) cannot exceed tokenMaxTtlSec \(1800\)/,
    unreachable: {
      by: "tenant file",
      overrides: { tokenTtl: "45m", tokenMaxTtl: "30m" },
      field: "tokenTtl",
      says: "got 45m; it cannot exceed tokenMaxTtl (30m)",
    },
  },
  {
    file: "constructs/vault-tenant.ts",
    throws: "must each list at least one name",
    trip: () => new VaultTenant(stack(), "t", { ...tenant, serviceAccounts: [] }),
    message: /serviceAccounts and namespaces must each list at least one name/,
    unreachable: { by: "tenant file", overrides: { serviceAccounts: [] }, field: "serviceAccounts", says: "list at least one service account; got []" },
  },
  {
    file: "constructs/vault-tenant.ts",
    throws: "audience is empty",
    trip: () => new VaultTenant(stack(), "t", { ...tenant, audience: " " }),
    message: /audience is empty/,
    unreachable: { by: "tenant file", overrides: { audience: " " }, field: "audience", says: 'got " "; an audience has no spaces; for example vault' },
  },
  {
    file: "constructs/vault-stateful-set.ts",
    throws: "replicas must be a whole number",
    trip: () => new VaultStatefulSet(stack(), "v", { ...statefulSet, replicas: 1.5 }),
    message: /replicas must be a whole number of at least 1, got 1\.5/,
    unreachable: {
      by: "environment schema",
      overrides: { vault: { replicas: 1.5 } },
      field: "vault.replicas",
      says: "got 1.5, expected a whole number; write a whole number",
    },
  },
  {
    file: "constructs/vault-stateful-set.ts",
    throws: "must cover preStopDelaySec",
    trip: () => new VaultStatefulSet(stack(), "v", { ...statefulSet, preStopDelaySec: 20, terminationGracePeriodSec: 25 }),
    message: /terminationGracePeriodSec \(25\) must cover preStopDelaySec \(20\)/,
    unreachable: {
      by: "environment schema",
      overrides: { vault: { preStopDelaySec: 20, terminationGracePeriodSec: 25 } },
      field: "vault.terminationGracePeriodSec",
      says: "got 25; the grace period must cover the preStop delay (20s) plus 10s for Vault to step down; raise it to at least 30",
    },
  },
  {
    file: "constructs/vault-load-balancer.ts",
    throws: "sourceRanges is empty",
    trip: () =>
      new VaultLoadBalancer(stack(), "lb", {
        namespace: "vault",
        activeLabel: "vault-active",
        address: "10.0.0.1",
        sourceRanges: [],
        internal: true,
        globalAccess: false,
      }),
    message: /sourceRanges is empty/,
    unreachable: {
      by: "environment schema",
      overrides: { vault: { exposure: { sourceRanges: [] } } },
      field: "vault.exposure.sourceRanges",
      says: "list the client ranges allowed to reach Vault; got []",
    },
  },
  {
    file: "constructs/postgres-engine-settings.ts",
    throws: "cannot exceed maxTtlSec",
    trip: () => postgresEngineSettings({ ...postgres, defaultTtlSec: 7200 }),
    message: /defaultTtlSec \(7200\) cannot exceed maxTtlSec \(3600\)/,
    unreachable: {
      by: "tenant file",
      overrides: { engines: { postgres: { host: "db", database: "d", username: "u", defaultTtl: "30m", maxTtl: "20m" } } },
      field: "engines.postgres.defaultTtl",
      says: "got 30m; it cannot exceed engines.postgres.maxTtl (20m)",
    },
  },
  {
    file: "constructs/vault-snapshot-job.ts",
    throws: "maxAgeSec must be at least 60 seconds",
    trip: () => new VaultSnapshotJob(stack(), "j", { ...snapshotJob, maxAgeSec: 30 }),
    message: /maxAgeSec must be at least 60 seconds, got 30/,
    unreachable: {
      by: "stacks",
      why: "the vault stack passes twice the schedule's longest gap, and a cron schedule runs at most once a minute (an unparsable one is a schema error)",
      show: () => {
        const job = resource(synthEnvironment(exampleEnv({ snapshots: { schedule: "* * * * *" } })).vault, "kubernetes_cron_job_v1") as {
          spec: { job_template: { spec: { template: { spec: { container: { env: { name: string; value: string }[] }[] } } } } };
        };
        expect(job.spec.job_template.spec.template.spec.container[0].env).toContainEqual({ name: "SNAPSHOT_MAX_AGE_SEC", value: "120" });
      },
    },
  },
  {
    file: "constructs/admin-gcp-auth.ts",
    throws: "adminServiceAccounts is empty",
    trip: () => new AdminGcpAuth(stack(), "a", { adminServiceAccounts: [], breakGlassServiceAccounts: [], tokenTtlSec: 1800, tokenMaxTtlSec: 3600 }),
    message: /adminServiceAccounts is empty/,
    unreachable: {
      by: "stacks",
      why: "the shared stack builds GCP auth only when gcpAuth.adminServiceAccounts lists an account",
      show: () =>
        expect(
          resources(synthEnvironment(exampleEnv({ gcpAuth: { adminServiceAccounts: [], breakGlassServiceAccounts: [] } })).shared, "vault_gcp_auth_backend"),
        ).toEqual([]),
    },
  },
  {
    file: "constructs/hardened-bucket.ts",
    throws: "noncurrentRetentionDays must be a whole number",
    trip: () => new HardenedBucket(stack(), "b", { project: "p", name: "n", location: "EU", noncurrentRetentionDays: 0 }),
    message: /noncurrentRetentionDays must be a whole number of at least 1, got 0/,
    unreachable: {
      by: "stacks",
      why: "no stack sets noncurrentRetentionDays: the versioned storage bucket keeps the construct's default",
      show: () => {
        for (const f of readdirSync(join(ROOT, "stacks")))
          expect([f, readFileSync(join(ROOT, "stacks", f), "utf8").includes("noncurrentRetentionDays")]).toEqual([f, false]);
        const bucket = resource(synthEnvironment(exampleEnv({ vault: { storage: "gcs" } })).platform, "google_storage_bucket", "storage-bucket") as {
          lifecycle_rule: { condition: { days_since_noncurrent_time?: number } }[];
        };
        expect(bucket.lifecycle_rule[0].condition.days_since_noncurrent_time).toBe(30);
      },
    },
  },
  {
    file: "constructs/hardened-bucket.ts",
    throws: "retention.days must be a whole number",
    trip: () => new HardenedBucket(stack(), "b", { project: "p", name: "n", location: "EU", retention: { days: 0, locked: false } }),
    message: /retention\.days must be a whole number of at least 1, got 0/,
    unreachable: { by: "environment schema", overrides: { snapshots: { retentionDays: 0 } }, field: "snapshots.retentionDays", says: "got 0; use 1 or more" },
  },
  {
    file: "constructs/unseal-key.ts",
    throws: "rotationPeriodDays must be a whole number",
    trip: () =>
      new UnsealKey(stack(), "k", { project: "p", location: "l", keyRingName: "r", keyName: "k", rotationPeriodDays: 0, protectionLevel: "SOFTWARE" }),
    message: /rotationPeriodDays must be a whole number of days of at least 1, got 0/,
    unreachable: { by: "environment schema", overrides: { kms: { rotationPeriodDays: 0 } }, field: "kms.rotationPeriodDays", says: "got 0; use 1 or more" },
  },
  {
    file: "constructs/vault-tls.ts",
    throws: "existingSecretName is required",
    trip: () => new VaultTls(stack(), "t", { namespace: "vault", mode: "existingSecret", names: { dnsNames: ["a"], ipAddresses: [] }, validityDays: 365 }),
    message: /existingSecretName is required with mode existingSecret/,
    unreachable: {
      by: "environment schema",
      overrides: { vault: { tls: { mode: "existingSecret" } } },
      field: "vault.tls.secretName",
      says: "tls.mode existingSecret needs the name of a kubernetes.io/tls secret with tls.crt, tls.key and ca.crt",
    },
  },
  {
    file: "constructs/vault-server-config.ts",
    throws: "tlsCertFile and tlsKeyFile are required",
    trip: () => renderVaultServerConfig({ ...serverConfig, tlsCertFile: "", storage: { type: "gcs", bucket: "b" } }),
    message: /tlsCertFile and tlsKeyFile are required/,
    unreachable: {
      by: "stacks",
      why: "the vault stack always names the files of the mounted TLS secret (VAULT_PATHS.tls)",
      show: () => {
        for (const vault of [{}, { storage: "gcs" }, { distribution: "openbao", tls: { mode: "existingSecret", secretName: "s" } }]) {
          const props = vaultServerConfigProps(exampleEnv({ vault }));
          expect([props.tlsCertFile, props.tlsKeyFile]).toEqual(["/vault/tls/tls.crt", "/vault/tls/tls.key"]);
          expect(() => renderVaultServerConfig(props)).not.toThrow();
        }
      },
    },
  },
  {
    file: "constructs/vault-server-config.ts",
    throws: "raft storage needs at least one peer",
    trip: () => renderVaultServerConfig({ ...serverConfig, storage: { type: "raft", path: "/d", peers: [], caCertFile: "ca" } }),
    message: /raft storage needs at least one peer/,
    unreachable: { by: "environment schema", overrides: { vault: { replicas: 0 } }, field: "vault.replicas", says: "got 0; use 1 or more" },
  },
  {
    file: "stacks/vault-stack.ts",
    throws: "reserved no load balancer address",
    trip: () => {
      const app = Testing.app({ outdir: join(tmpdir(), "vault-gke-unused"), stackTraces: false });
      const platform = new PlatformStack(app, "p", { env: exampleEnv({ vault: { exposure: { type: "ingress" } } }) });
      return new VaultStack(app, "v", { env: exampleEnv(), platform });
    },
    message: /the platform stack reserved no load balancer address/,
    unreachable: {
      by: "stacks",
      why: "both stacks read the one environment: the platform stack reserves the address exactly when vault.exposure.type is loadBalancer",
      show: () => {
        for (const internal of [true, false]) {
          const synth = synthEnvironment(exampleEnv({ vault: { exposure: { internal } } }));
          expect(resource(synth.platform, "google_compute_address", "lb-address")).toMatchObject({ address_type: internal ? "INTERNAL" : "EXTERNAL" });
          expect(resources(synth.vault, "kubernetes_service_v1").map(([name]) => name)).toContainEqual(expect.stringContaining("load-balancer"));
        }
      },
    },
  },
  {
    file: "stacks/vault-stack.ts",
    throws: "exposure gatewayTlsRoute needs a gateway",
    trip: () => {
      const env = exampleEnv();
      const unchecked = { ...env, vault: { ...env.vault, exposure: { ...env.vault.exposure, type: "gatewayTlsRoute" as const, gateway: undefined } } };
      return buildEnvironmentStacks(Testing.app({ outdir: join(tmpdir(), "vault-gke-unused"), stackTraces: false }), unchecked);
    },
    message: /exposure gatewayTlsRoute needs a gateway/,
    unreachable: {
      by: "environment schema",
      overrides: { vault: { exposure: { type: "gatewayTlsRoute" } } },
      field: "vault.exposure.gateway",
      says: "exposure.type gatewayTlsRoute needs gateway.name and gateway.namespace of a Gateway with a TLS passthrough listener",
    },
  },
];

interface SourceThrow {
  readonly file: string;
  readonly line: number;
  readonly text: string;
}

/** Every `throw new Error` line of the .ts files under constructs/ and stacks/. */
function sourceThrows(): SourceThrow[] {
  const files = (folder: string): string[] =>
    readdirSync(join(ROOT, folder), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? files(`${folder}/${e.name}`) : e.name.endsWith(".ts") ? [`${folder}/${e.name}`] : [],
    );
  return ["constructs", "stacks"].flatMap(files).flatMap((file) =>
    readFileSync(join(ROOT, file), "utf8")
      .split("\n")
      .flatMap((text, i) => (text.includes("throw new Error") ? [{ file, line: i + 1, text: text.trim() }] : [])),
  );
}

describe("construct validations", () => {
  it("has one walk for every throw in constructs/ and stacks/, and none for a throw that is gone", () => {
    const throws = sourceThrows();
    expect(throws.length).toBeGreaterThanOrEqual(WALKS.length);
    const unwalked = throws
      .filter((t) => WALKS.filter((w) => w.file === t.file && t.text.includes(w.throws)).length !== 1)
      .map((t) => `${t.file}:${t.line}: ${t.text}`);
    expect(unwalked).toEqual([]);
    const stale = WALKS.filter((w) => throws.filter((t) => w.file === t.file && t.text.includes(w.throws)).length !== 1).map((w) => `${w.file}: ${w.throws}`);
    expect(stale).toEqual([]);
  });

  it.each(WALKS.map((w) => [`${w.file} "${w.throws}"`, w.unreachable.by, w] as const))("%s: no valid environment reaches it (%s)", (_, __, walk) => {
    expect(walk.trip).toThrow(walk.message);
    const u = walk.unreachable;
    if (u.by === "stacks") {
      expect(u.why).not.toBe("");
      u.show();
    } else {
      const line = u.by === "environment schema" ? environmentProblem(u.overrides, u.field) : tenantProblem(u.overrides, u.field);
      expect(line).toContain(`: ${u.field}: ${u.says}`);
    }
  });

  it("reports a construct's refusal at synth as a config error against the environment file, with no stack trace", () => {
    const env = exampleEnv();
    // What the schema refuses, handed to the stacks directly: the safety net main.ts relies on.
    const unchecked = { ...env, vault: { ...env.vault, replicas: 0 } };
    const environmentsDir = join(dir, "environments");
    let problems: readonly string[] = [];
    try {
      buildProjectStacks(Testing.app({ outdir: join(tmpdir(), "vault-gke-unused"), stackTraces: false }), [{ env: unchecked, tenants: [] }], environmentsDir);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems = error.problems;
    }
    expect(problems).toEqual([
      `${join(environmentsDir, "example.yaml")}: podNames is empty; list the StatefulSet's pods (vault-0, vault-1, ...) (the schema should have refused this: please report it)`,
    ]);
  });
});
