import { NamespaceV1 } from "@cdktf/provider-kubernetes/lib/namespace-v1";
import { ServiceAccountV1 } from "@cdktf/provider-kubernetes/lib/service-account-v1";
import { Construct } from "constructs";

export interface VaultNamespaceProps {
  readonly name: string;
  /** The Google service account the Vault pods act as (Workload Identity). */
  readonly googleServiceAccountEmail: string;
  /** The pods' Kubernetes service account: the one Workload Identity binds to the Google service account. */
  readonly serviceAccountName: string;
  readonly labels?: Record<string, string>;
}

/**
 * The Vault namespace, held to the Pod Security "restricted" standard
 * (enforced, audited and warned), and the pods' Kubernetes service account,
 * annotated so GKE maps it to the Google service account.
 */
export class VaultNamespace extends Construct {
  readonly name: string;
  readonly serviceAccountName: string;
  readonly namespace: NamespaceV1;

  constructor(scope: Construct, id: string, props: VaultNamespaceProps) {
    super(scope, id);
    this.namespace = new NamespaceV1(this, "namespace", {
      metadata: {
        name: props.name,
        labels: {
          ...props.labels,
          "pod-security.kubernetes.io/enforce": "restricted",
          "pod-security.kubernetes.io/enforce-version": "latest",
          "pod-security.kubernetes.io/audit": "restricted",
          "pod-security.kubernetes.io/warn": "restricted",
        },
      },
    });
    this.name = this.namespace.metadata.name;
    this.serviceAccountName = props.serviceAccountName;
    new ServiceAccountV1(this, "service-account", {
      metadata: {
        name: this.serviceAccountName,
        namespace: this.name,
        labels: props.labels,
        annotations: { "iam.gke.io/gcp-service-account": props.googleServiceAccountEmail },
      },
      // Service registration labels the pod through the Kubernetes API with this token.
      automountServiceAccountToken: true,
    });
  }
}
