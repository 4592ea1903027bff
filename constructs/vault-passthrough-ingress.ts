import { IngressV1 } from "@cdktf/provider-kubernetes/lib/ingress-v1";
import { Construct } from "constructs";
import { VAULT_API_PORT } from "../contract/ports";
import { VAULT_SERVICES } from "./vault-naming";

export interface VaultPassthroughIngressProps {
  readonly namespace: string;
  readonly hostname: string;
  readonly ingressClassName: string;
}

/**
 * An ingress-nginx Ingress with TLS passthrough: the controller routes by SNI
 * and never decrypts, so TLS still ends at Vault. The controller must run with
 * --enable-ssl-passthrough. ingress-nginx was retired in March 2026 and gets no
 * security fixes; prefer the load balancer exposure.
 */
export class VaultPassthroughIngress extends Construct {
  readonly ingress: IngressV1;

  constructor(scope: Construct, id: string, props: VaultPassthroughIngressProps) {
    super(scope, id);
    this.ingress = new IngressV1(this, "ingress", {
      metadata: {
        name: "vault",
        namespace: props.namespace,
        annotations: {
          "nginx.ingress.kubernetes.io/ssl-passthrough": "true",
          "nginx.ingress.kubernetes.io/force-ssl-redirect": "true",
          "nginx.ingress.kubernetes.io/backend-protocol": "HTTPS",
        },
      },
      spec: {
        ingressClassName: props.ingressClassName,
        tls: [{ hosts: [props.hostname] }],
        rule: [
          {
            host: props.hostname,
            http: {
              path: [{ path: "/", pathType: "Prefix", backend: { service: { name: VAULT_SERVICES.active, port: { number: VAULT_API_PORT } } } }],
            },
          },
        ],
      },
    });
  }
}
