import { ServiceV1 } from "@cdktf/provider-kubernetes/lib/service-v1";
import { Construct } from "constructs";
import { VAULT_API_PORT, VAULT_CLUSTER_PORT } from "../contract/ports";
import { VAULT_POD_LABELS, VAULT_SERVICES } from "./vault-naming";

export interface VaultServicesProps {
  readonly namespace: string;
  /** The label service registration sets on the active pod ("vault-active" or "openbao-active"). */
  readonly activeLabel: string;
}

/**
 * vault-internal: headless, publishing not-ready pods so Raft peers find each
 * other before they are unsealed; vault-active and vault-standby: selected by
 * the label Vault's Kubernetes service registration keeps up to date; vault:
 * every ready server (a standby forwards to the active one).
 */
export class VaultServices extends Construct {
  readonly internal: ServiceV1;
  readonly active: ServiceV1;
  readonly standby: ServiceV1;
  readonly general: ServiceV1;

  constructor(scope: Construct, id: string, props: VaultServicesProps) {
    super(scope, id);
    const ports = [
      { name: "https", port: VAULT_API_PORT, targetPort: String(VAULT_API_PORT) },
      { name: "https-internal", port: VAULT_CLUSTER_PORT, targetPort: String(VAULT_CLUSTER_PORT) },
    ];
    const service = (cid: string, name: string, selector: Record<string, string>, extra: { clusterIp?: string; publishNotReadyAddresses?: boolean } = {}) =>
      new ServiceV1(this, cid, {
        metadata: { name, namespace: props.namespace, labels: { ...VAULT_POD_LABELS } },
        spec: { type: "ClusterIP", selector, port: ports, ...extra },
      });
    this.internal = service("internal", VAULT_SERVICES.internal, { ...VAULT_POD_LABELS }, { clusterIp: "None", publishNotReadyAddresses: true });
    this.active = service("active", VAULT_SERVICES.active, { ...VAULT_POD_LABELS, [props.activeLabel]: "true" });
    this.standby = service("standby", VAULT_SERVICES.standby, { ...VAULT_POD_LABELS, [props.activeLabel]: "false" });
    this.general = service("general", VAULT_SERVICES.general, { ...VAULT_POD_LABELS });
  }
}
