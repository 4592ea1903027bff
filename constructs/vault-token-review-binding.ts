import { ClusterRoleBindingV1 } from "@cdktf/provider-kubernetes/lib/cluster-role-binding-v1";
import { Construct } from "constructs";

export interface VaultTokenReviewBindingProps {
  readonly namespace: string;
  readonly serviceAccountName: string;
}

/**
 * Lets the Vault pods' service account call the TokenReview API of their own
 * cluster (system:auth-delegator, nothing else), so auth/in-cluster checks the
 * snapshot job's tokens without a long-lived reviewer token in any state.
 */
export class VaultTokenReviewBinding extends Construct {
  constructor(scope: Construct, id: string, props: VaultTokenReviewBindingProps) {
    super(scope, id);
    new ClusterRoleBindingV1(this, "auth-delegator", {
      metadata: { name: `vault-${props.namespace}-auth-delegator` },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:auth-delegator" },
      subject: [{ kind: "ServiceAccount", name: props.serviceAccountName, namespace: props.namespace }],
    });
  }
}
