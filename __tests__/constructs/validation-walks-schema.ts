// The walks of construct-validation-walk.test.ts whose throw the environment schema keeps every valid
// environment from: each case trips the throw, then names the schema's refusal (field, value and fix).
import { Testing } from "cdktf";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GkeCluster } from "../../constructs/gke-cluster";
import { HardenedBucket } from "../../constructs/hardened-bucket";
import { applyRoleSettings } from "../../constructs/runner-auth";
import { UnsealKey } from "../../constructs/unseal-key";
import { VaultLoadBalancer } from "../../constructs/vault-load-balancer";
import { VaultNodePool } from "../../constructs/vault-node-pool";
import { renderVaultServerConfig } from "../../constructs/vault-server-config";
import { VaultServiceRegistration } from "../../constructs/vault-service-registration";
import { VaultStatefulSet } from "../../constructs/vault-stateful-set";
import { VaultTls } from "../../constructs/vault-tls";
import { buildEnvironmentStacks } from "../../stacks/environment-stacks";
import { exampleEnv } from "../helpers";
import { applyRole, gkeCluster, nodePool, serverConfig, stack, statefulSet, type WalkBy } from "./validation-walk-fixture";

export const SCHEMA_REFUSED: WalkBy<"environment schema">[] = [
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
    file: "constructs/vault-tls.ts",
    throws: "signs but is not trusted",
    trip: () =>
      new VaultTls(stack(), "t", {
        namespace: "vault",
        mode: "generated",
        names: { dnsNames: ["a"], ipAddresses: [] },
        validityDays: 365,
        caGenerations: { signing: 2, trusted: [1] },
      }),
    message: /caGenerations: generation 2 signs but is not trusted \(1\); trust it first/,
    unreachable: {
      by: "environment schema",
      overrides: { vault: { tls: { ca: { signing: 2, trusted: [1] } } } },
      field: "vault.tls.ca.signing",
      says: "got 2; this CA generation is not in tls.ca.trusted (1): clients would not trust the certificate it signs",
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
