// The environment file's schema: one YAML file per environment becomes a typed,
// validated EnvironmentConfig. Every message says what is wrong and how to fix
// it; load.ts adds the file, line and field path. This module knows nothing of
// cdktf.
import { X509Certificate } from "node:crypto";
import { z } from "zod";
import { parseCidr, rangesOverlap } from "./cidr";
import { longestCronGapSec } from "./cron";

export const dnsLabel = (what: string, max = 63) =>
  z
    .string()
    .max(max, { error: `${what} must be at most ${max} characters` })
    .regex(/^[a-z]([-a-z0-9]*[a-z0-9])?$/, {
      error: `${what} must be lowercase letters, digits and '-', starting with a letter (for example 'prod')`,
    });

export const dnsName = z
  .string()
  .max(253, { error: "a DNS name has at most 253 characters" })
  .regex(/^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$/, {
    error: "not a DNS name; use lowercase labels separated by dots, for example vault.example.com",
  });

export const cidr = z.string().refine((value) => parseCidr(value) !== undefined, {
  error: "not an IPv4 CIDR range; write it as a.b.c.d/n with the host bits zero, for example 10.10.0.0/20",
});

/** A Vault duration such as 30m, 1h or 768h, converted to seconds. */
export const duration = z
  .string()
  .regex(/^\d+[smh]$/, { error: "not a duration; write a whole number followed by s, m or h, for example 1h" })
  .transform((value) => {
    const n = Number(value.slice(0, -1));
    return n * { s: 1, m: 60, h: 3600 }[value.slice(-1) as "s" | "m" | "h"];
  });

export const pemCertificate = z.string().refine(
  (text) => {
    try {
      new X509Certificate(text);
      return /-----BEGIN CERTIFICATE-----/.test(text);
    } catch {
      return false;
    }
  },
  { error: "not a PEM certificate; paste the cluster CA (gcloud container clusters describe ... --format='value(masterAuth.clusterCaCertificate)' | base64 -d)" },
);

const serviceAccountEmail = z.email({ error: "not a service account email; write its email, for example deployer@my-project.iam.gserviceaccount.com" });

const kubernetesQuantity = z.string().regex(/^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti)?$/, {
  error: "not a Kubernetes quantity; for example 500m for CPU or 512Mi for memory",
});

const clusterCreate = z.strictObject({
  /** Create a dedicated GKE cluster (with its VPC, subnet, NAT) for Vault. */
  mode: z.literal("create"),
  name: dnsLabel("cluster.name", 40),
  releaseChannel: z.enum(["RAPID", "REGULAR", "STABLE"]).default("REGULAR"),
  /** The /28 the private control plane uses; it must not overlap the network ranges. */
  masterIpv4CidrBlock: cidr.default("172.16.0.0/28"),
  /** Who may reach the control plane (Atlantis, CI, admins). */
  masterAuthorizedNetworks: z
    .array(z.strictObject({ cidrBlock: cidr, displayName: z.string().min(1) }))
    .min(1, { error: "list at least one network that may reach the control plane (the runner of Atlantis or CI)" }),
  network: z.strictObject({
    subnetCidr: cidr.default("10.10.0.0/20"),
    podsCidr: cidr.default("10.20.0.0/16"),
    servicesCidr: cidr.default("10.30.0.0/20"),
  }).prefault({}),
  /** Keep Terraform from deleting the cluster; turning it off takes this explicit switch. */
  deletionProtection: z.boolean().default(true),
});

const clusterExisting = z.strictObject({
  /** Attach to a cluster that already exists; the Vault node pool is added to it. */
  mode: z.literal("existing"),
  name: dnsLabel("cluster.name", 40),
  /** The cluster's location: a region for regional clusters. */
  location: z.string().min(1),
  /** The subnetwork in which the internal load balancer takes its address. */
  subnetwork: z.string().min(1),
  /**
   * Workload Identity's pool is project-wide: a `vault/vault` service account in
   * ANY cluster of this project acts as Vault's Google identity (keys, secrets).
   * Attaching to a cluster in a project other clusters share needs this switch (README).
   */
  sharedProjectAcknowledged: z.boolean().default(false),
});

const exposure = z.strictObject({
  /**
   * loadBalancer: a GCP passthrough Network Load Balancer on vault-active (default);
   * ingress: ingress-nginx with TLS passthrough (retired upstream in March 2026);
   * gatewayTlsRoute: a Gateway API TLSRoute in passthrough mode.
   */
  type: z.enum(["loadBalancer", "ingress", "gatewayTlsRoute"]).default("loadBalancer"),
  /** Internal load balancer (reachable from the VPC and peers only). */
  internal: z.boolean().default(true),
  /** Client ranges allowed to reach Vault's API through the load balancer and the NetworkPolicy. */
  sourceRanges: z.array(cidr).min(1, { error: "list the client ranges allowed to reach Vault" }),
  /** Let clients in other regions reach the internal load balancer. */
  globalAccess: z.boolean().default(false),
  /** A public load balancer open to 0.0.0.0/0 needs this explicit switch. */
  allowWorldAccess: z.boolean().default(false),
  ingress: z
    .strictObject({
      className: z.string().default("nginx"),
      controllerNamespace: dnsLabel("exposure.ingress.controllerNamespace").default("ingress-nginx"),
    })
    .prefault({}),
  gateway: z
    .strictObject({
      name: dnsLabel("exposure.gateway.name"),
      namespace: dnsLabel("exposure.gateway.namespace"),
      sectionName: z.string().optional(),
    })
    .optional(),
});

const tls = z.strictObject({
  /** Must stay true: TLS ends only at the Vault pods and no plaintext listener exists. */
  enabled: z.boolean().default(true),
  /** generated: a CA and certificate made at apply time (keys live in the Terraform state); existingSecret: e.g. cert-manager. */
  mode: z.enum(["generated", "existingSecret"]).default("generated"),
  /** Name of a kubernetes.io/tls secret with tls.crt, tls.key and ca.crt (existingSecret mode). */
  secretName: z.string().optional(),
  validityDays: z.number().int().min(30).max(825).default(365),
  minVersion: z.enum(["tls12", "tls13"]).default("tls12"),
});

const vault = z.strictObject({
  /** vault: HashiCorp Vault; openbao: the OpenBao fork. Decides audit device handling and storage choices. */
  distribution: z.enum(["vault", "openbao"]).default("vault"),
  /** Container image, pinned exactly. Defaults to a current patched release of the distribution. */
  image: z.string().regex(/^[^\s:@]+(:[\w.-]+)?(@sha256:[a-f0-9]{64})?$/, { error: "not an image reference; for example hashicorp/vault:2.1.1" }).optional(),
  namespace: dnsLabel("vault.namespace").default("vault"),
  replicas: z.number().int().min(1).max(7).default(3),
  storage: z.enum(["raft", "gcs"]).default("raft"),
  seal: z.enum(["gcpckms", "shamir"]).default("gcpckms"),
  keyShares: z.number().int().min(1).max(10).default(5),
  keyThreshold: z.number().int().min(1).max(10).default(3),
  /** The public name clients use; it is in the certificate's SANs. */
  hostname: dnsName,
  tls: tls.prefault({}),
  exposure,
  /** Namespaces of the Vault cluster whose pods may reach Vault's API (8200). */
  allowedNamespaces: z.array(dnsLabel("vault.allowedNamespaces[]")).default([]),
  cpuRequest: kubernetesQuantity.default("500m"),
  memoryRequest: kubernetesQuantity.default("512Mi"),
  cpuLimit: kubernetesQuantity.default("2"),
  memoryLimit: kubernetesQuantity.default("1Gi"),
  dataVolumeSizeGb: z.number().int().min(1).default(10),
  auditVolumeSizeGb: z.number().int().min(1).default(10),
  /** Delay before SIGTERM so load balancers stop sending traffic first. */
  preStopDelaySec: z.number().int().min(0).max(60).default(5),
  terminationGracePeriodSec: z.number().int().min(10).max(600).default(60),
  logLevel: z.enum(["trace", "debug", "info", "warn", "error"]).default("info"),
  ui: z.boolean().default(true),
});

const bootstrap = z.strictObject({
  /** The sidecar image built from bootstrap/Dockerfile, pinned exactly. */
  image: z.string().min(1),
  /** Period of the read-only plan token the sidecar keeps in Secret Manager for runners' plans; it renews it. */
  planTokenPeriod: duration.prefault("1h"),
  /** Revoke the root token once bootstrap is done (generate-root brings a short-lived one back when needed). */
  revokeRootToken: z.boolean().default(true),
});

const nodePool = z.strictObject({
  machineType: z.string().default("n2-standard-2"),
  nodesPerZone: z.number().int().min(1).max(10).default(1),
  diskSizeGb: z.number().int().min(20).max(1000).default(50),
  diskType: z.enum(["pd-balanced", "pd-ssd", "pd-standard"]).default("pd-balanced"),
});

const kms = z.strictObject({
  keyRing: dnsLabel("kms.keyRing").default("vault"),
  key: dnsLabel("kms.key").default("vault-unseal"),
  rotationPeriodDays: z.number().int().min(1).max(365).default(90),
  protectionLevel: z.enum(["SOFTWARE", "HSM"]).default("SOFTWARE"),
});

const snapshots = z.strictObject({
  /** A dual-region (for example EUR4) or multi-region location keeps snapshots out of a single region. */
  location: z.string().regex(/^[A-Za-z0-9-]+$/, { error: "not a GCS location; for example EUR4, US or europe-west1" }),
  /** A second region with `location`, making a configurable dual-region bucket. */
  secondRegion: z.string().optional(),
  /** Snapshots are kept this long: nobody (the Vault pods included) can delete one earlier; deleted after. */
  retentionDays: z.number().int().min(1).max(3650).default(30),
  /** Lock the retention policy: it can never be shortened or removed again (irreversible). */
  retentionLocked: z.boolean().default(false),
  /** When the snapshot job runs (cron, UTC). */
  schedule: z
    .string()
    .regex(/^(\S+\s+){4}\S+$/, { error: "not a cron schedule; five fields, for example \"0 */6 * * *\" (every six hours)" })
    .default("0 */6 * * *"),
});

const gcpAuth = z.strictObject({
  /** Google service accounts (emails) whose IAM logins map to the admin policy. */
  adminServiceAccounts: z.array(serviceAccountEmail).default([]),
  /**
   * Google service accounts whose logins get the break-glass policy. Nobody may
   * impersonate them by default: grant that briefly, with a second person, when
   * the glass must break (README: break-glass).
   */
  breakGlassServiceAccounts: z.array(serviceAccountEmail).default([]),
  tokenTtl: duration.prefault("30m"),
  tokenMaxTtl: duration.prefault("1h"),
});

const registeredCluster = z.strictObject({
  /** The cluster's Kubernetes auth backend is mounted at kubernetes-<name>; tenant files name it. */
  name: dnsLabel("tenancy.clusters[].name", 40),
  /** The https:// URL of the cluster's API server (TokenReview goes there). */
  apiServerUrl: z.url({ protocol: /^https$/, error: "must be the https:// URL of the cluster's API server" }),
  /** The cluster's CA certificate (PEM). */
  caCertificate: pemCertificate,
});

/** Longest life of the apply credential: an approved apply gets minutes, never more. */
export const APPLY_TOKEN_MAX_TTL_SEC = 1200;

const delivery = z.strictObject({
  /** Google service accounts of plan runs (pull-request CI): they may read the read-only plan token, nothing else. */
  planServiceAccounts: z.array(serviceAccountEmail).default([]),
  /**
   * Google service accounts of approved applies (Atlantis after approval, the
   * protected deploy job): they log in to Vault per run and get the provisioner policy.
   */
  applyServiceAccounts: z.array(serviceAccountEmail).default([]),
  /** Lifetime of the apply credential (at most 20m, never renewable past 20m). */
  applyTokenTtl: duration.prefault("15m"),
  /**
   * The OIDC issuer whose ID tokens the runners' login (auth/runner) accepts; Vault reads its
   * discovery document and keys. Google's, unless the runners' identities come from another issuer.
   */
  runnerIssuer: z.url({ protocol: /^https$/, error: "must be an https:// URL of an OIDC issuer" }).default("https://accounts.google.com"),
});

export const environmentSchema = z
  .strictObject({
    /** The environment's name; stacks are called <name>-platform, <name>-vault, <name>-tenants. */
    name: dnsLabel("name", 20),
    project: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, {
      error: "not a GCP project id (6 to 30 lowercase letters, digits or '-', starting with a letter)",
    }),
    region: z.string().regex(/^[a-z]+-[a-z]+[0-9]+$/, { error: "not a GCP region; for example europe-west1" }),
    zones: z.array(z.string().regex(/^[a-z]+-[a-z]+[0-9]+-[a-z]$/, { error: "not a GCP zone; for example europe-west1-b" })).min(1),
    /** Terraform state: a GCS bucket and a prefix; each stack appends its own name. */
    backend: z.strictObject({
      bucket: z.string().regex(/^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/, { error: "not a GCS bucket name" }),
      prefix: z.string().regex(/^[A-Za-z0-9._/-]+$/).transform((p) => p.replace(/\/+$/, "")),
    }),
    labels: z.record(z.string(), z.string()).default({}),
    cluster: z.discriminatedUnion("mode", [clusterCreate, clusterExisting], {
      error: "cluster.mode must be 'create' (a dedicated cluster) or 'existing' (attach to one)",
    }),
    nodePool: nodePool.prefault({}),
    kms: kms.prefault({}),
    snapshots,
    vault,
    bootstrap,
    gcpAuth: gcpAuth.prefault({}),
    tenancy: z
      .strictObject({
        /** The longest token TTL a tenant file may ask for. */
        maxTokenTtl: duration.prefault("1h"),
        /** The Vault address the tenant stacks' provider talks to; defaults to https://<vault.hostname>:8200. */
        vaultAddress: z.url({ protocol: /^https$/, error: "must be an https:// URL" }).optional(),
        /**
         * Tenant clusters registered by the platform team: Vault sends TokenReview to
         * these API servers and trusts these CAs. Tenant files can only name them.
         */
        clusters: z.array(registeredCluster).default([]),
      })
      .prefault({}),
    delivery: delivery.prefault({}),
  })
  .superRefine(checkCombinations);

export type EnvironmentConfig = z.output<typeof environmentSchema>;

/** The fields the cross-field rules read, as parsed. */
type EnvironmentShape = {
  zones: string[];
  region: string;
  cluster: z.output<typeof clusterCreate> | z.output<typeof clusterExisting>;
  nodePool: z.output<typeof nodePool>;
  vault: z.output<typeof vault>;
  snapshots: z.output<typeof snapshots>;
  gcpAuth: z.output<typeof gcpAuth>;
  tenancy: { maxTokenTtl: number; clusters: { name: string }[] };
  delivery: { applyTokenTtl: number };
};

/** Rules that span fields: each adds one issue with the path of the field to change. */
function checkCombinations(env: EnvironmentShape, ctx: z.RefinementCtx): void {
  const issue = (path: (string | number)[], message: string, input: unknown) =>
    ctx.addIssue({ code: "custom", path, message, input });
  const { vault: v } = env;

  env.zones.forEach((zone, i) => {
    if (!zone.startsWith(`${env.region}-`)) {
      issue(["zones", i], `zone is not in region ${env.region}; use zones such as ${env.region}-b`, zone);
    }
  });
  if (new Set(env.zones).size !== env.zones.length) {
    issue(["zones"], "zones are listed twice; list each zone once", env.zones);
  }
  if (v.storage === "raft" && v.replicas % 2 === 0) {
    issue(["vault", "replicas"], `raft needs an odd replica count to keep a quorum; use ${v.replicas - 1} or ${v.replicas + 1}`, v.replicas);
  }
  // The node pool spreads over at least 3 zones whatever the replica count (VaultNodePool's own invariant).
  if (env.zones.length < 3) {
    issue(["zones"], `list at least 3 zones of ${env.region}: the dedicated node pool spreads Vault over them to survive a zone outage`, env.zones);
  }
  const capacity = env.zones.length * env.nodePool.nodesPerZone;
  if (v.replicas > capacity) {
    issue(
      ["vault", "replicas"],
      `${v.replicas} replicas cannot be placed one per node on ${capacity} nodes (${env.zones.length} zones x nodePool.nodesPerZone ${env.nodePool.nodesPerZone}); lower vault.replicas or raise nodePool.nodesPerZone`,
      v.replicas,
    );
  }
  if (v.keyThreshold > v.keyShares) {
    issue(["vault", "keyThreshold"], `the threshold cannot exceed vault.keyShares (${v.keyShares}); lower it or raise keyShares`, v.keyThreshold);
  }
  if (v.storage === "gcs" && v.distribution === "openbao") {
    issue(["vault", "storage"], "OpenBao has no GCS storage backend; use storage: raft, or distribution: vault", v.storage);
  }
  if (!v.tls.enabled) {
    issue(["vault", "tls", "enabled"], "TLS cannot be disabled: traffic is encrypted up to the Vault pods and no plaintext listener exists; remove the field or set it to true", false);
  }
  if (v.tls.mode === "existingSecret" && !v.tls.secretName) {
    issue(["vault", "tls", "secretName"], "tls.mode existingSecret needs the name of a kubernetes.io/tls secret with tls.crt, tls.key and ca.crt", undefined);
  }
  if (v.exposure.type === "gatewayTlsRoute" && !v.exposure.gateway) {
    issue(["vault", "exposure", "gateway"], "exposure.type gatewayTlsRoute needs gateway.name and gateway.namespace of a Gateway with a TLS passthrough listener", undefined);
  }
  v.exposure.sourceRanges.forEach((range, i) => {
    if (range.endsWith("/0") && !v.exposure.internal && !v.exposure.allowWorldAccess) {
      issue(["vault", "exposure", "sourceRanges", i], "a public load balancer open to the whole internet needs vault.exposure.allowWorldAccess: true; list narrower ranges instead", range);
    }
  });
  if (v.terminationGracePeriodSec < v.preStopDelaySec + 10) {
    issue(["vault", "terminationGracePeriodSec"], `the grace period must cover the preStop delay (${v.preStopDelaySec}s) plus 10s for Vault to step down; raise it to at least ${v.preStopDelaySec + 10}`, v.terminationGracePeriodSec);
  }
  const clusterNames = new Set<string>();
  env.tenancy.clusters.forEach((c, i) => {
    if (clusterNames.has(c.name)) issue(["tenancy", "clusters", i, "name"], "this cluster is registered twice; register each cluster once", c.name);
    clusterNames.add(c.name);
  });
  if (env.delivery.applyTokenTtl > APPLY_TOKEN_MAX_TTL_SEC) {
    issue(["delivery", "applyTokenTtl"], `the apply credential lives at most ${APPLY_TOKEN_MAX_TTL_SEC / 60}m; use 20m or less`, `${env.delivery.applyTokenTtl / 60}m`);
  }
  if (env.gcpAuth.tokenTtl > env.gcpAuth.tokenMaxTtl) {
    issue(["gcpAuth", "tokenTtl"], "the token TTL cannot exceed gcpAuth.tokenMaxTtl; lower it", env.gcpAuth.tokenTtl);
  }
  let gapSec: number | undefined;
  try {
    gapSec = longestCronGapSec(env.snapshots.schedule);
  } catch (error) {
    issue(["snapshots", "schedule"], `${(error as Error).message}; for example "0 */6 * * *" (every six hours)`, env.snapshots.schedule);
  }
  if (gapSec !== undefined && env.snapshots.retentionDays * 86_400 < 2 * gapSec) {
    issue(["snapshots", "retentionDays"], `snapshots would expire before the next two are taken (the schedule leaves up to ${gapSec / 3600}h between runs); keep them longer`, env.snapshots.retentionDays);
  }
  if (env.cluster.mode === "existing" && !env.cluster.sharedProjectAcknowledged) {
    issue(
      ["cluster", "sharedProjectAcknowledged"],
      "with an existing cluster, any cluster of this project can run a vault/vault service account that Workload Identity maps to Vault's Google identity (its keys and secrets); give Vault a dedicated project, or set sharedProjectAcknowledged: true once every cluster of the project is trusted like Vault's (README: Workload Identity)",
      false,
    );
  }
  if (env.cluster.mode === "create") {
    const ranges: [string, string][] = [
      ["cluster.network.subnetCidr", env.cluster.network.subnetCidr],
      ["cluster.network.podsCidr", env.cluster.network.podsCidr],
      ["cluster.network.servicesCidr", env.cluster.network.servicesCidr],
      ["cluster.masterIpv4CidrBlock", env.cluster.masterIpv4CidrBlock],
    ];
    for (let i = 0; i < ranges.length; i++) {
      for (let j = i + 1; j < ranges.length; j++) {
        if (rangesOverlap(ranges[i][1], ranges[j][1])) {
          issue(ranges[j][0].split("."), `overlaps ${ranges[i][0]} (${ranges[i][1]}); choose a range that does not`, ranges[j][1]);
        }
      }
    }
    if (!env.cluster.masterIpv4CidrBlock.endsWith("/28")) {
      issue(["cluster", "masterIpv4CidrBlock"], "GKE needs a /28 for the private control plane; for example 172.16.0.0/28", env.cluster.masterIpv4CidrBlock);
    }
  }
}
