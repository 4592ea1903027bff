import { AuthBackend } from "@cdktf/provider-vault/lib/auth-backend";
import { KubernetesAuthBackendConfig } from "@cdktf/provider-vault/lib/kubernetes-auth-backend-config";
import { Construct } from "constructs";
import { kubernetesAuthPath } from "../contract/vault-names";

export interface KubernetesAuthBackendProps {
  /** The tenant cluster's name; the backend is mounted at kubernetes-<name>. */
  readonly clusterName: string;
  readonly apiServerUrl: string;
  readonly caCertificatePem: string;
  /** The reviewer service account's JWT in that cluster (sensitive). */
  readonly reviewerJwt: string;
  /** Longest token lifetime the backend allows (the environment's tenancy.maxTokenTtl). */
  readonly maxTokenTtlSec: number;
}

/** A Kubernetes auth backend that delegates TokenReview to one tenant cluster. */
export class KubernetesAuthBackend extends Construct {
  readonly path: string;

  constructor(scope: Construct, id: string, props: KubernetesAuthBackendProps) {
    super(scope, id);
    const backend = new AuthBackend(this, "backend", {
      type: "kubernetes",
      path: kubernetesAuthPath(props.clusterName),
      description: `tenant cluster ${props.clusterName} (vault-gke)`,
      tune: [{ defaultLeaseTtl: `${Math.min(1800, props.maxTokenTtlSec)}s`, maxLeaseTtl: `${props.maxTokenTtlSec}s`, tokenType: "default-service" }],
    });
    this.path = backend.path;
    new KubernetesAuthBackendConfig(this, "config", {
      backend: backend.path,
      kubernetesHost: props.apiServerUrl,
      kubernetesCaCert: props.caCertificatePem,
      tokenReviewerJwt: props.reviewerJwt,
      // Vault runs in another cluster: never fall back to its own pod's token and CA.
      disableLocalCaJwt: true,
    });
  }
}
