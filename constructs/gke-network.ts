import { ComputeFirewall } from "@cdktf/provider-google/lib/compute-firewall";
import { ComputeNetwork } from "@cdktf/provider-google/lib/compute-network";
import { ComputeRouter } from "@cdktf/provider-google/lib/compute-router";
import { ComputeRouterNat } from "@cdktf/provider-google/lib/compute-router-nat";
import { ComputeSubnetwork } from "@cdktf/provider-google/lib/compute-subnetwork";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";

export interface GkeNetworkProps {
  readonly project: string;
  readonly region: string;
  readonly namePrefix: string;
  readonly subnetCidr: string;
  readonly podsCidr: string;
  readonly servicesCidr: string;
  /** Resources (enabled APIs) that must exist first. @default none */
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * A VPC for a private GKE cluster: one subnet with secondary ranges for pods and
 * services, Private Google Access (private nodes reach Google APIs) and Cloud NAT
 * (private nodes pull images from outside Google), with flow and NAT logs.
 */
export class GkeNetwork extends Construct {
  readonly network: ComputeNetwork;
  readonly subnetwork: ComputeSubnetwork;
  readonly podsRangeName: string;
  readonly servicesRangeName: string;

  constructor(scope: Construct, id: string, props: GkeNetworkProps) {
    super(scope, id);
    this.podsRangeName = "pods";
    this.servicesRangeName = "services";
    this.network = new ComputeNetwork(this, "network", {
      project: props.project,
      name: `${props.namePrefix}-vpc`,
      autoCreateSubnetworks: false,
      routingMode: "REGIONAL",
      dependsOn: props.dependsOn,
    });
    this.subnetwork = new ComputeSubnetwork(this, "subnetwork", {
      project: props.project,
      region: props.region,
      name: `${props.namePrefix}-nodes`,
      network: this.network.id,
      ipCidrRange: props.subnetCidr,
      privateIpGoogleAccess: true,
      secondaryIpRange: [
        { rangeName: this.podsRangeName, ipCidrRange: props.podsCidr },
        { rangeName: this.servicesRangeName, ipCidrRange: props.servicesCidr },
      ],
      logConfig: { aggregationInterval: "INTERVAL_5_SEC", flowSampling: 0.5, metadata: "INCLUDE_ALL_METADATA" },
    });
    // Explicit, logged deny of all other ingress (GKE adds its own allow rules at
    // priority 1000); documents the intent instead of relying on the implied rule.
    new ComputeFirewall(this, "deny-ingress", {
      project: props.project,
      name: `${props.namePrefix}-deny-all-ingress`,
      network: this.network.id,
      direction: "INGRESS",
      priority: 65534,
      sourceRanges: ["0.0.0.0/0"],
      deny: [{ protocol: "all" }],
      logConfig: { metadata: "INCLUDE_ALL_METADATA" },
    });
    const router = new ComputeRouter(this, "router", {
      project: props.project,
      region: props.region,
      name: `${props.namePrefix}-router`,
      network: this.network.id,
    });
    new ComputeRouterNat(this, "nat", {
      project: props.project,
      region: props.region,
      name: `${props.namePrefix}-nat`,
      router: router.name,
      natIpAllocateOption: "AUTO_ONLY",
      sourceSubnetworkIpRangesToNat: "LIST_OF_SUBNETWORKS",
      subnetwork: [{ name: this.subnetwork.id, sourceIpRangesToNat: ["ALL_IP_RANGES"] }],
      logConfig: { enable: true, filter: "ERRORS_ONLY" },
    });
  }
}
