import { ContainerCluster } from "@cdktf/provider-google/lib/container-cluster";
import { DataGoogleProject } from "@cdktf/provider-google/lib/data-google-project";
import { KmsCryptoKey } from "@cdktf/provider-google/lib/kms-crypto-key";
import { KmsCryptoKeyIamMember } from "@cdktf/provider-google/lib/kms-crypto-key-iam-member";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";

/** What the rest of the platform needs to know about a cluster, created or existing. */
export interface GkeClusterRef {
  readonly name: string;
  readonly location: string;
  /** The control plane's address (no scheme). */
  readonly endpoint: string;
  /** The cluster CA, base64-encoded PEM. */
  readonly caCertificate: string;
}

export interface GkeClusterProps {
  readonly project: string;
  readonly region: string;
  readonly name: string;
  /** Zones the cluster's node pools may use. */
  readonly zones: readonly string[];
  readonly networkId: string;
  readonly subnetworkId: string;
  readonly podsRangeName: string;
  readonly servicesRangeName: string;
  /** The /28 of the private control plane. */
  readonly masterIpv4CidrBlock: string;
  readonly masterAuthorizedNetworks: readonly { readonly cidrBlock: string; readonly displayName: string }[];
  /** The node service account; also used by the temporary default pool GKE creates and removes. */
  readonly nodeServiceAccountEmail: string;
  /** Key ring that holds the application-layer secrets encryption key. */
  readonly keyRingId: string;
  /** GKE release channel. */
  readonly releaseChannel: "RAPID" | "REGULAR" | "STABLE";
  /** Keep Terraform from deleting the cluster. */
  readonly deletionProtection: boolean;
  readonly labels?: Record<string, string>;
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * A dedicated, hardened, regional GKE cluster for Vault: private nodes, a
 * control plane reachable only from the authorized networks, Workload Identity,
 * shielded nodes, Dataplane V2 (which enforces NetworkPolicy), Kubernetes
 * secrets encrypted with a KMS key, system and workload logs and metrics. The
 * default node pool is removed; Vault runs on its own pool.
 */
export class GkeCluster extends Construct implements GkeClusterRef {
  readonly cluster: ContainerCluster;
  readonly secretsKey: KmsCryptoKey;
  readonly name: string;
  readonly location: string;
  readonly endpoint: string;
  readonly caCertificate: string;

  constructor(scope: Construct, id: string, props: GkeClusterProps) {
    super(scope, id);
    if (!props.masterIpv4CidrBlock.endsWith("/28")) {
      throw new Error(`masterIpv4CidrBlock must be a /28, got ${props.masterIpv4CidrBlock}; for example 172.16.0.0/28`);
    }
    if (props.masterAuthorizedNetworks.length === 0) {
      throw new Error("masterAuthorizedNetworks is empty; list the networks (Atlantis, CI) that may reach the control plane");
    }
    const project = new DataGoogleProject(this, "project", { projectId: props.project });
    this.secretsKey = new KmsCryptoKey(this, "secrets-key", {
      keyRing: props.keyRingId,
      name: `${props.name}-gke-secrets`,
      purpose: "ENCRYPT_DECRYPT",
      rotationPeriod: `${90 * 86_400}s`,
      labels: props.labels,
      lifecycle: { preventDestroy: true },
    });
    // GKE's service agent wraps Kubernetes secrets with the key; it needs nothing else.
    const grant = new KmsCryptoKeyIamMember(this, "secrets-key-gke-agent", {
      cryptoKeyId: this.secretsKey.id,
      role: "roles/cloudkms.cryptoKeyEncrypterDecrypter",
      member: `serviceAccount:service-${project.number}@container-engine-robot.iam.gserviceaccount.com`,
    });
    this.cluster = new ContainerCluster(this, "cluster", {
      project: props.project,
      name: props.name,
      location: props.region,
      nodeLocations: [...props.zones],
      network: props.networkId,
      subnetwork: props.subnetworkId,
      networkingMode: "VPC_NATIVE",
      ipAllocationPolicy: {
        clusterSecondaryRangeName: props.podsRangeName,
        servicesSecondaryRangeName: props.servicesRangeName,
      },
      removeDefaultNodePool: true,
      initialNodeCount: 1,
      // Applies to the default pool GKE creates before Terraform removes it:
      // even those few minutes run hardened, without the Compute Engine default account.
      nodeConfig: {
        serviceAccount: props.nodeServiceAccountEmail,
        oauthScopes: ["https://www.googleapis.com/auth/cloud-platform"],
        shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
        workloadMetadataConfig: { mode: "GKE_METADATA" },
        metadata: { "disable-legacy-endpoints": "true" },
      },
      deletionProtection: props.deletionProtection,
      releaseChannel: { channel: props.releaseChannel },
      privateClusterConfig: {
        enablePrivateNodes: true,
        enablePrivateEndpoint: false,
        masterIpv4CidrBlock: props.masterIpv4CidrBlock,
        masterGlobalAccessConfig: { enabled: false },
      },
      masterAuthorizedNetworksConfig: {
        gcpPublicCidrsAccessEnabled: false,
        cidrBlocks: props.masterAuthorizedNetworks.map((n) => ({ cidrBlock: n.cidrBlock, displayName: n.displayName })),
      },
      masterAuth: { clientCertificateConfig: { issueClientCertificate: false } },
      enableLegacyAbac: false,
      enableShieldedNodes: true,
      enableIntranodeVisibility: true,
      datapathProvider: "ADVANCED_DATAPATH",
      workloadIdentityConfig: { workloadPool: `${props.project}.svc.id.goog` },
      databaseEncryption: { state: "ENCRYPTED", keyName: this.secretsKey.id },
      loggingConfig: { enableComponents: ["SYSTEM_COMPONENTS", "WORKLOADS", "APISERVER"] },
      monitoringConfig: { enableComponents: ["SYSTEM_COMPONENTS"], managedPrometheus: { enabled: true } },
      securityPostureConfig: { mode: "BASIC", vulnerabilityMode: "VULNERABILITY_BASIC" },
      binaryAuthorization: { evaluationMode: "PROJECT_SINGLETON_POLICY_ENFORCE" },
      addonsConfig: { httpLoadBalancing: { disabled: false } },
      resourceLabels: props.labels,
      dependsOn: [...(props.dependsOn ?? []), grant],
    });
    this.name = this.cluster.name;
    this.location = this.cluster.location;
    this.endpoint = this.cluster.endpoint;
    this.caCertificate = this.cluster.masterAuth.clusterCaCertificate;
  }
}
