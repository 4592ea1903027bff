// Constructs validate their props early and say how to fix a bad value.
import { GkeCluster } from "../../constructs/gke-cluster";
import { HardenedBucket } from "../../constructs/hardened-bucket";
import { UnsealKey } from "../../constructs/unseal-key";
import { VaultLoadBalancer } from "../../constructs/vault-load-balancer";
import { VaultNodePool } from "../../constructs/vault-node-pool";
import { renderVaultServerConfig } from "../../constructs/vault-server-config";
import { VaultServiceRegistration } from "../../constructs/vault-service-registration";
import { VaultStatefulSet } from "../../constructs/vault-stateful-set";
import { VaultTls } from "../../constructs/vault-tls";
import { stack, statefulSet as statefulSetProps } from "./validation-walk-fixture";

/** What the stacks always pass and these cases do not vary. */
const serverConfigSettings = { tlsMinVersion: "tls12", ui: true, logLevel: "info" } as const;

describe("construct validation", () => {
  it("fails on a server config without TLS files", () => {
    expect(() =>
      renderVaultServerConfig({ ...serverConfigSettings, tlsCertFile: "", tlsKeyFile: "", storage: { type: "gcs", bucket: "b" }, seal: { type: "shamir" } }),
    ).toThrow(/tlsCertFile and tlsKeyFile are required: the listener always serves TLS/);
  });

  it("fails on raft storage without peers", () => {
    expect(() =>
      renderVaultServerConfig({
        ...serverConfigSettings,
        tlsCertFile: "c",
        tlsKeyFile: "k",
        storage: { type: "raft", path: "/d", peers: [], caCertFile: "ca" },
        seal: { type: "shamir" },
      }),
    ).toThrow(/at least one peer/);
  });

  it("fails on a grace period that does not cover the preStop delay", () => {
    expect(() => new VaultStatefulSet(stack(), "v", { ...statefulSetProps, preStopDelaySec: 20, terminationGracePeriodSec: 25 })).toThrow(
      /terminationGracePeriodSec \(25\) must cover preStopDelaySec \(20\).*raise it to 30/,
    );
  });

  it("fails on a replica count that is not a positive whole number", () => {
    expect(() => new VaultStatefulSet(stack(), "v", { ...statefulSetProps, replicas: 0 })).toThrow(/replicas must be a whole number of at least 1, got 0/);
  });

  it("fails on service registration without pods", () => {
    expect(() => new VaultServiceRegistration(stack(), "r", { namespace: "vault", serviceAccountName: "vault", podNames: [] })).toThrow(/podNames is empty/);
  });

  it("fails on existingSecret TLS without a secret name", () => {
    expect(
      () => new VaultTls(stack(), "t", { namespace: "vault", mode: "existingSecret", names: { dnsNames: ["a"], ipAddresses: [] }, validityDays: 365 }),
    ).toThrow(/existingSecretName is required/);
  });

  it("fails on a load balancer without source ranges", () => {
    expect(
      () =>
        new VaultLoadBalancer(stack(), "lb", {
          namespace: "vault",
          activeLabel: "vault-active",
          address: "10.0.0.1",
          sourceRanges: [],
          internal: true,
          globalAccess: false,
        }),
    ).toThrow(/sourceRanges is empty/);
  });

  it("fails on a node pool in fewer than 3 zones", () => {
    expect(
      () =>
        new VaultNodePool(stack(), "p", {
          project: "p",
          clusterName: "c",
          clusterLocation: "r",
          zones: ["a", "b"],
          serviceAccountEmail: "e",
          nodesPerZone: 1,
          machineType: "m",
          diskSizeGb: 50,
          diskType: "pd-balanced",
        }),
    ).toThrow(/lists 2 zone\(s\); list at least 3/);
  });

  it("fails on a zero rotation period", () => {
    expect(
      () => new UnsealKey(stack(), "k", { project: "p", location: "l", keyRingName: "r", keyName: "k", rotationPeriodDays: 0, protectionLevel: "SOFTWARE" }),
    ).toThrow(/rotationPeriodDays must be a whole number of days of at least 1, got 0/);
  });

  it("fails on a zero retention", () => {
    expect(() => new HardenedBucket(stack(), "b", { project: "p", name: "n", location: "EU", noncurrentRetentionDays: 0 })).toThrow(/noncurrentRetentionDays/);
  });

  it("fails on a control plane range that is not a /28", () => {
    expect(
      () =>
        new GkeCluster(stack(), "c", {
          project: "p",
          region: "r",
          name: "c",
          zones: ["a", "b", "c"],
          networkId: "n",
          subnetworkId: "s",
          podsRangeName: "p",
          servicesRangeName: "s",
          masterIpv4CidrBlock: "172.16.0.0/24",
          masterAuthorizedNetworks: [{ cidrBlock: "10.0.0.0/8", displayName: "x" }],
          nodeServiceAccountEmail: "e",
          keyRingId: "k",
          releaseChannel: "REGULAR",
          deletionProtection: true,
        }),
    ).toThrow(/must be a \/28, got 172\.16\.0\.0\/24/);
  });
});
