import { RoleBindingV1 } from "@cdktf/provider-kubernetes/lib/role-binding-v1";
import { RoleV1 } from "@cdktf/provider-kubernetes/lib/role-v1";
import { Construct } from "constructs";

export interface VaultServiceRegistrationProps {
  readonly namespace: string;
  readonly serviceAccountName: string;
  /** The StatefulSet's pod names: the only objects the Role reaches. */
  readonly podNames: readonly string[];
}

/** Exactly get, update and patch on the Vault pods themselves: what Kubernetes service registration needs to set its labels. */
export const SERVICE_REGISTRATION_VERBS = ["get", "update", "patch"] as const;

export class VaultServiceRegistration extends Construct {
  readonly role: RoleV1;

  constructor(scope: Construct, id: string, props: VaultServiceRegistrationProps) {
    super(scope, id);
    if (props.podNames.length === 0) throw new Error("podNames is empty; list the StatefulSet's pods (vault-0, vault-1, ...)");
    this.role = new RoleV1(this, "role", {
      metadata: { name: "vault-service-registration", namespace: props.namespace },
      rule: [{ apiGroups: [""], resources: ["pods"], resourceNames: [...props.podNames], verbs: [...SERVICE_REGISTRATION_VERBS] }],
    });
    new RoleBindingV1(this, "binding", {
      metadata: { name: "vault-service-registration", namespace: props.namespace },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: this.role.metadata.name },
      subject: [{ kind: "ServiceAccount", name: props.serviceAccountName, namespace: props.namespace }],
    });
  }
}
