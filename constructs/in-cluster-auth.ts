import { AuthBackend } from "@cdktf/provider-vault/lib/auth-backend";
import { KubernetesAuthBackendConfig } from "@cdktf/provider-vault/lib/kubernetes-auth-backend-config";
import { KubernetesAuthBackendRole } from "@cdktf/provider-vault/lib/kubernetes-auth-backend-role";
import { Construct } from "constructs";
import { AUTH_PATHS, IN_CLUSTER_API_SERVER } from "../contract/vault-names";

export interface InClusterRole {
  readonly name: string;
  readonly serviceAccount: string;
  readonly namespace: string;
  readonly policies: readonly string[];
  /** @default 600 */
  readonly tokenTtlSec?: number;
}

export interface InClusterAuthProps {
  /** @default AUTH_PATHS.inCluster ("in-cluster") */
  readonly path?: string;
  /** Audience the workloads' projected tokens carry. */
  readonly audience: string;
  readonly roles: readonly InClusterRole[];
}

/**
 * Kubernetes auth for Vault's own cluster (the snapshot job): Vault checks the
 * tokens with its own pod's service account and CA (the vault stack binds that
 * account to system:auth-delegator), so no reviewer JWT passes through the state.
 */
export class InClusterAuth extends Construct {
  readonly path: string;

  constructor(scope: Construct, id: string, props: InClusterAuthProps) {
    super(scope, id);
    const backend = new AuthBackend(this, "backend", {
      type: "kubernetes",
      path: props.path ?? AUTH_PATHS.inCluster,
      description: "Vault's own cluster: platform jobs such as snapshots (vault-gke)",
      tune: [{ defaultLeaseTtl: "600s", maxLeaseTtl: "3600s", tokenType: "default-service" }],
    });
    this.path = backend.path;
    new KubernetesAuthBackendConfig(this, "config", {
      backend: backend.path,
      kubernetesHost: IN_CLUSTER_API_SERVER,
      disableLocalCaJwt: false,
    });
    for (const r of props.roles) {
      new KubernetesAuthBackendRole(this, `role-${r.name}`, {
        backend: backend.path,
        roleName: r.name,
        boundServiceAccountNames: [r.serviceAccount],
        boundServiceAccountNamespaces: [r.namespace],
        audience: props.audience,
        tokenPolicies: [...r.policies],
        // Without Vault's default policy (any lease's renewal and look-up): its policies name what it needs.
        tokenNoDefaultPolicy: true,
        tokenTtl: r.tokenTtlSec ?? 600,
        tokenMaxTtl: r.tokenTtlSec ?? 600,
        tokenType: "service",
        aliasNameSource: "serviceaccount_uid",
      });
    }
  }
}
