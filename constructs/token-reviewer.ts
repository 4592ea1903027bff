import { ClusterRoleBindingV1 } from "@cdktf/provider-kubernetes/lib/cluster-role-binding-v1";
import { NamespaceV1 } from "@cdktf/provider-kubernetes/lib/namespace-v1";
import type { KubernetesProvider } from "@cdktf/provider-kubernetes/lib/provider";
import { SecretV1 } from "@cdktf/provider-kubernetes/lib/secret-v1";
import { ServiceAccountV1 } from "@cdktf/provider-kubernetes/lib/service-account-v1";
import { Fn } from "cdktf";
import { Construct } from "constructs";

export interface TokenReviewerProps {
  /** The aliased provider that reaches the tenant cluster. */
  readonly provider: KubernetesProvider;
  /** @default "vault-auth" */
  readonly namespace?: string;
}

/**
 * In a tenant cluster: the service account Vault uses to call the TokenReview
 * API (bound to system:auth-delegator, nothing else), and its long-lived token
 * secret. The token passes through the Terraform state (sensitive): restrict
 * the state bucket.
 */
export class TokenReviewer extends Construct {
  /** The reviewer's JWT (sensitive). */
  readonly jwt: string;

  constructor(scope: Construct, id: string, props: TokenReviewerProps) {
    super(scope, id);
    const provider = props.provider;
    const ns = new NamespaceV1(this, "namespace", {
      provider,
      metadata: { name: props.namespace ?? "vault-auth", labels: { "app.kubernetes.io/managed-by": "vault-gke" } },
    });
    const sa = new ServiceAccountV1(this, "service-account", {
      provider,
      metadata: { name: "vault-token-reviewer", namespace: ns.metadata.name },
      automountServiceAccountToken: false,
    });
    new ClusterRoleBindingV1(this, "auth-delegator", {
      provider,
      metadata: { name: "vault-token-reviewer-auth-delegator" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:auth-delegator" },
      subject: [{ kind: "ServiceAccount", name: sa.metadata.name, namespace: ns.metadata.name }],
    });
    const secret = new SecretV1(this, "token", {
      provider,
      metadata: { name: "vault-token-reviewer", namespace: ns.metadata.name, annotations: { "kubernetes.io/service-account.name": sa.metadata.name } },
      type: "kubernetes.io/service-account-token",
      waitForServiceAccountToken: true,
    });
    this.jwt = Fn.lookup(secret.data, "token", "");
  }
}
