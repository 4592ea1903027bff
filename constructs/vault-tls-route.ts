import { Manifest } from "@cdktf/provider-kubernetes/lib/manifest";
import { Construct } from "constructs";
import { VAULT_API_PORT } from "../contract/ports";
import { VAULT_SERVICES } from "./vault-naming";

export interface VaultTlsRouteProps {
  readonly namespace: string;
  readonly hostname: string;
  readonly gatewayName: string;
  readonly gatewayNamespace: string;
  /** The Gateway listener (protocol TLS, mode Passthrough). @default any listener that accepts the route */
  readonly sectionName?: string;
}

/**
 * A Gateway API TLSRoute for Gateways whose implementation supports TLS
 * passthrough: routed by SNI to vault-active, never decrypted. It is a
 * kubernetes_manifest, so the TLSRoute CRD must exist at plan time.
 */
export class VaultTlsRoute extends Construct {
  constructor(scope: Construct, id: string, props: VaultTlsRouteProps) {
    super(scope, id);
    new Manifest(this, "route", {
      manifest: {
        apiVersion: "gateway.networking.k8s.io/v1alpha2",
        kind: "TLSRoute",
        metadata: { name: "vault", namespace: props.namespace },
        spec: {
          parentRefs: [{ name: props.gatewayName, namespace: props.gatewayNamespace, ...(props.sectionName ? { sectionName: props.sectionName } : {}) }],
          hostnames: [props.hostname],
          rules: [{ backendRefs: [{ name: VAULT_SERVICES.active, port: VAULT_API_PORT }] }],
        },
      },
    });
  }
}
