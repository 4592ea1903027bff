import { ArtifactRegistryRepositoryIamMember } from "@cdktf/provider-google/lib/artifact-registry-repository-iam-member";
import { ProjectIamMember } from "@cdktf/provider-google/lib/project-iam-member";
import { ServiceAccount } from "@cdktf/provider-google/lib/service-account";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";

export interface NodeServiceAccountProps {
  readonly project: string;
  readonly accountId: string;
  /** Artifact Registry repositories the nodes pull images from (read on each repository only). @default none */
  readonly pullsFrom?: readonly { readonly project: string; readonly location: string; readonly repository: string }[];
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * The least-privilege identity of the Vault nodes: it may only write logs and
 * metrics, and read the Artifact Registry repositories its images come from. Pods never use it (Workload Identity gives them their own), so the
 * Compute Engine default account with Editor is never on a Vault node.
 */
export const NODE_PROJECT_ROLES = ["roles/logging.logWriter", "roles/monitoring.metricWriter", "roles/monitoring.viewer"] as const;

export class NodeServiceAccount extends Construct {
  readonly serviceAccount: ServiceAccount;

  constructor(scope: Construct, id: string, props: NodeServiceAccountProps) {
    super(scope, id);
    this.serviceAccount = new ServiceAccount(this, "account", {
      project: props.project,
      accountId: props.accountId,
      displayName: "Vault GKE nodes (logs and metrics only)",
      dependsOn: props.dependsOn,
    });
    for (const role of NODE_PROJECT_ROLES) {
      new ProjectIamMember(this, role.replace("roles/", ""), {
        project: props.project,
        role,
        member: this.serviceAccount.member,
      });
    }
    for (const repo of props.pullsFrom ?? []) {
      new ArtifactRegistryRepositoryIamMember(this, `pull-${repo.project}-${repo.location}-${repo.repository}`, {
        project: repo.project,
        location: repo.location,
        repository: repo.repository,
        role: "roles/artifactregistry.reader",
        member: this.serviceAccount.member,
      });
    }
  }
}
