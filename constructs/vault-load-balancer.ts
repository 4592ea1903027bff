import { ServiceV1 } from "@cdktf/provider-kubernetes/lib/service-v1";
import { Construct } from "constructs";
import { VAULT_API_PORT } from "../contract/ports";
import { VAULT_LB_SERVICE, VAULT_POD_LABELS } from "./vault-naming";

export interface VaultLoadBalancerProps {
  readonly namespace: string;
  readonly activeLabel: string;
  /** The static address the platform stack reserved. */
  readonly address: string;
  /** Client ranges allowed through the load balancer. */
  readonly sourceRanges: readonly string[];
  /** Internal (reachable from the VPC and peers) or external. */
  readonly internal: boolean;
  /** Clients in other regions may reach the internal load balancer. */
  readonly globalAccess: boolean;
}

/**
 * The default exposure: a GCP passthrough Network Load Balancer (layer 4, so
 * TLS still ends at Vault) that sends traffic only to the active server.
 * externalTrafficPolicy Local keeps client addresses, which Vault's audit log and the
 * NetworkPolicy see, and makes only nodes with the active pod pass health checks.
 */
export class VaultLoadBalancer extends Construct {
  readonly service: ServiceV1;

  constructor(scope: Construct, id: string, props: VaultLoadBalancerProps) {
    super(scope, id);
    if (props.sourceRanges.length === 0) throw new Error("sourceRanges is empty; list the client ranges allowed to reach Vault");
    const internal = props.internal;
    const annotations: Record<string, string> = internal ? { "networking.gke.io/load-balancer-type": "Internal" } : { "cloud.google.com/l4-rbs": "enabled" };
    if (internal && props.globalAccess) annotations["networking.gke.io/internal-load-balancer-allow-global-access"] = "true";
    this.service = new ServiceV1(this, "service", {
      metadata: { name: VAULT_LB_SERVICE, namespace: props.namespace, labels: { ...VAULT_POD_LABELS }, annotations },
      spec: {
        type: "LoadBalancer",
        loadBalancerIp: props.address,
        loadBalancerSourceRanges: [...props.sourceRanges],
        externalTrafficPolicy: "Local",
        selector: { ...VAULT_POD_LABELS, [props.activeLabel]: "true" },
        port: [{ name: "https", port: VAULT_API_PORT, targetPort: String(VAULT_API_PORT), protocol: "TCP" }],
      },
    });
  }
}
