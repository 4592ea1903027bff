import { NetworkPolicyV1 } from "@cdktf/provider-kubernetes/lib/network-policy-v1";
import { Construct } from "constructs";
import { SIDECAR_HTTP_PORT, VAULT_API_PORT, VAULT_CLUSTER_PORT } from "../contract/ports";
import { VAULT_POD_LABELS } from "./vault-naming";

export interface VaultNetworkPolicyProps {
  readonly namespace: string;
  /** Client ranges (the load balancer's source ranges). @default none */
  readonly clientRanges?: readonly string[];
  /** Namespaces whose pods may call Vault's API (the ingress controller's, the Gateway's, allowed tenants'). @default none */
  readonly clientNamespaces?: readonly string[];
  /** The metrics collector's pods: they alone reach the sidecar's port (8210), and 8200 for Vault's telemetry when it is scraped. @default none */
  readonly scraper?: { readonly namespace: string; readonly podLabels: Readonly<Record<string, string>>; readonly vaultTelemetry: boolean };
}

/**
 * Ingress to Vault: the API (8200) only from the exposure's sources, from pods
 * of the Vault namespace (Raft joins, jobs) and from allowed namespaces; the
 * cluster port (8201) only between Vault servers; the sidecar's port (8210)
 * (and the API, when Vault's telemetry is scraped) only from the metrics
 * collector's pods (one peer: that namespace AND those labels). The kubelet's probes are not subject to it. Everything else is
 * dropped.
 */
export class VaultNetworkPolicy extends Construct {
  readonly policy: NetworkPolicyV1;

  constructor(scope: Construct, id: string, props: VaultNetworkPolicyProps) {
    super(scope, id);
    const apiSources = [
      { podSelector: { matchLabels: {} } },
      ...(props.clientRanges ?? []).map((cidr) => ({ ipBlock: { cidr } })),
      ...(props.clientNamespaces ?? []).map((ns) => ({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } } })),
    ];
    const scraper = props.scraper;
    const scrape = scraper
      ? [
          {
            ports: [SIDECAR_HTTP_PORT, ...(scraper.vaultTelemetry ? [VAULT_API_PORT] : [])].map((port) => ({ port: String(port), protocol: "TCP" })),
            from: [
              {
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": scraper.namespace } },
                podSelector: { matchLabels: { ...scraper.podLabels } },
              },
            ],
          },
        ]
      : [];
    this.policy = new NetworkPolicyV1(this, "policy", {
      metadata: { name: "vault", namespace: props.namespace },
      spec: {
        podSelector: { matchLabels: { ...VAULT_POD_LABELS } },
        policyTypes: ["Ingress"],
        ingress: [
          { ports: [{ port: String(VAULT_API_PORT), protocol: "TCP" }], from: apiSources },
          { ports: [{ port: String(VAULT_CLUSTER_PORT), protocol: "TCP" }], from: [{ podSelector: { matchLabels: { ...VAULT_POD_LABELS } } }] },
          ...scrape,
        ],
      },
    });
  }
}
