// The rules that span fields of an environment file. Each adds one issue on
// the field to change, with the value and the fix; load.ts adds the file and
// line. A construct that checks the same thing keeps its own check, but no
// environment that passes these reaches it (__tests__/constructs/construct-validation-walk.test.ts).
import type { z } from "zod";
import { accountIdPart } from "../account-ids";
import { rangesOverlap } from "../cidr";
import { longestCronGapSec } from "../cron";
import type { gcpAuth } from "./admins";
import type { clusterCreate, clusterExisting, nodePool } from "./cluster";
import { APPLY_TOKEN_MAX_TTL_SEC, type delivery } from "./delivery";
import type { snapshots } from "./recovery";
import type { vault } from "./vault";

/** The fields the cross-field rules read, as parsed. */
export type EnvironmentShape = {
  zones: string[];
  region: string;
  cluster: z.output<typeof clusterCreate> | z.output<typeof clusterExisting>;
  nodePool: z.output<typeof nodePool>;
  vault: z.output<typeof vault>;
  snapshots: z.output<typeof snapshots>;
  gcpAuth: z.output<typeof gcpAuth>;
  tenancy: { maxTokenTtl: number; clusters: { name: string }[] };
  delivery: z.output<typeof delivery>;
};

type Path = (string | number)[];
type Issue = (path: Path, message: string, input: unknown) => void;

/** Rules that span fields: each adds one issue with the path of the field to change. */
export function checkCombinations(env: EnvironmentShape, ctx: z.RefinementCtx): void {
  const issue: Issue = (path, message, input) => ctx.addIssue({ code: "custom", path, message, input });
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
    issue(
      ["vault", "tls", "enabled"],
      "TLS cannot be disabled: traffic is encrypted up to the Vault pods and no plaintext listener exists; remove the field or set it to true",
      false,
    );
  }
  const ca = v.tls.ca;
  if (new Set(ca.trusted).size !== ca.trusted.length) {
    issue(["vault", "tls", "ca", "trusted"], `lists a CA generation twice; list each once, e.g. [${ca.signing}]`, ca.trusted);
  } else if (!ca.trusted.includes(ca.signing)) {
    issue(
      ["vault", "tls", "ca", "signing"],
      `this CA generation is not in tls.ca.trusted (${ca.trusted.join(", ")}): clients would not trust the certificate it signs; add ${ca.signing} to trusted first and apply, then sign with it`,
      ca.signing,
    );
  }
  if (v.tls.mode === "existingSecret" && (ca.signing !== 1 || ca.trusted.length !== 1 || ca.trusted[0] !== 1)) {
    issue(["vault", "tls", "ca"], "tls.ca rotates the generated CA only; with existingSecret the issuer (cert-manager) rotates it: remove tls.ca", ca);
  }
  if (v.tls.mode === "existingSecret" && !v.tls.secretName) {
    issue(["vault", "tls", "secretName"], "tls.mode existingSecret needs the name of a kubernetes.io/tls secret with tls.crt, tls.key and ca.crt", undefined);
  }
  if (v.exposure.type === "gatewayTlsRoute" && !v.exposure.gateway) {
    issue(
      ["vault", "exposure", "gateway"],
      "exposure.type gatewayTlsRoute needs gateway.name and gateway.namespace of a Gateway with a TLS passthrough listener",
      undefined,
    );
  }
  v.exposure.sourceRanges.forEach((range, i) => {
    if (range.endsWith("/0") && !v.exposure.internal && !v.exposure.allowWorldAccess) {
      issue(
        ["vault", "exposure", "sourceRanges", i],
        "a public load balancer open to the whole internet needs vault.exposure.allowWorldAccess: true; list narrower ranges instead",
        range,
      );
    }
  });
  if (v.terminationGracePeriodSec < v.preStopDelaySec + 10) {
    issue(
      ["vault", "terminationGracePeriodSec"],
      `the grace period must cover the preStop delay (${v.preStopDelaySec}s) plus 10s for Vault to step down; raise it to at least ${v.preStopDelaySec + 10}`,
      v.terminationGracePeriodSec,
    );
  }
  const clusterNames = new Set<string>();
  env.tenancy.clusters.forEach((c, i) => {
    if (clusterNames.has(c.name)) issue(["tenancy", "clusters", i, "name"], "this cluster is registered twice; register each cluster once", c.name);
    clusterNames.add(c.name);
  });
  if (env.delivery.applyTokenTtl > APPLY_TOKEN_MAX_TTL_SEC) {
    issue(
      ["delivery", "applyTokenTtl"],
      `the apply credential lives at most ${APPLY_TOKEN_MAX_TTL_SEC / 60}m; use 20m or less`,
      `${env.delivery.applyTokenTtl / 60}m`,
    );
  }
  // GCP auth (and with it the break-glass role) exists only when admins are listed: break-glass accounts alone would be ignored.
  if (env.gcpAuth.breakGlassServiceAccounts.length > 0 && env.gcpAuth.adminServiceAccounts.length === 0) {
    issue(
      ["gcpAuth", "breakGlassServiceAccounts"],
      "break-glass accounts need GCP auth, which vault-gke enables only with admins: list gcpAuth.adminServiceAccounts too, or remove these",
      env.gcpAuth.breakGlassServiceAccounts,
    );
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
    issue(
      ["snapshots", "retentionDays"],
      `snapshots would expire before the next two are taken (the schedule leaves up to ${gapSec / 3600}h between runs); keep them longer`,
      env.snapshots.retentionDays,
    );
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
  checkGcpAuthAccounts(env.gcpAuth, issue);
  checkDeliveryAccounts(env.delivery, issue);
}

const where = (path: Path) => path.map((key, i) => (typeof key === "number" ? `[${key}]` : `${i === 0 ? "" : "."}${key}`)).join("");

interface ListedAccount {
  readonly list: "adminServiceAccounts" | "breakGlassServiceAccounts" | "planServiceAccounts" | "applyServiceAccounts";
  readonly path: Path;
  readonly email: string;
}

const listed = (section: "gcpAuth" | "delivery", list: ListedAccount["list"], emails: readonly string[]): ListedAccount[] =>
  emails.map((email, i) => ({ list, path: [section, list, i], email }));

/** Two different accounts that the constructs would name alike (config/account-ids.ts): cdktf refuses two resources at one address. */
const sameIdPart = (first: ListedAccount) =>
  `names the same Terraform resources as ${JSON.stringify(first.email)} (${where(first.path)}), since resource names keep only an email's letters and digits; use another service account for one of the two`;

/**
 * Vault's Google identity may view each admin and break-glass account (one grant per account, named after it),
 * and a break-glass account is one that nobody uses day to day, so each account is listed once in both lists.
 */
function checkGcpAuthAccounts(gcpAuth: EnvironmentShape["gcpAuth"], issue: Issue): void {
  const seen = new Map<string, ListedAccount>();
  for (const entry of [
    ...listed("gcpAuth", "adminServiceAccounts", gcpAuth.adminServiceAccounts),
    ...listed("gcpAuth", "breakGlassServiceAccounts", gcpAuth.breakGlassServiceAccounts),
  ]) {
    const first = seen.get(accountIdPart(entry.email));
    if (!first) seen.set(accountIdPart(entry.email), entry);
    else if (first.email !== entry.email) issue(entry.path, sameIdPart(first), entry.email);
    else if (first.list === entry.list) issue(entry.path, `this account is listed twice (${where(first.path)}); list each account once`, entry.email);
    else
      issue(
        entry.path,
        `this account is also an admin (${where(first.path)}): a break-glass account is one that nobody uses day to day; list a separate account here`,
        entry.email,
      );
  }
}

/**
 * Each apply account gets its own grant on the tenants' database passwords (named after it), so it is listed once;
 * plan and apply accounts share the plan token's grants, so an account may be in both lists (an apply runner plans too).
 */
function checkDeliveryAccounts(delivery: EnvironmentShape["delivery"], issue: Issue): void {
  const seen = new Map<string, ListedAccount>();
  const applying = new Map<string, ListedAccount>();
  for (const entry of [
    ...listed("delivery", "planServiceAccounts", delivery.planServiceAccounts),
    ...listed("delivery", "applyServiceAccounts", delivery.applyServiceAccounts),
  ]) {
    const first = seen.get(accountIdPart(entry.email));
    const firstApply = entry.list === "applyServiceAccounts" ? applying.get(entry.email) : undefined;
    if (first && first.email !== entry.email) issue(entry.path, sameIdPart(first), entry.email);
    else if (firstApply) issue(entry.path, `this account is listed twice (${where(firstApply.path)}); list each account once`, entry.email);
    if (!first) seen.set(accountIdPart(entry.email), entry);
    if (entry.list === "applyServiceAccounts" && !firstApply) applying.set(entry.email, entry);
  }
}
