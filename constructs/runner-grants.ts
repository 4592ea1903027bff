import { DataGoogleProject } from "@cdktf/provider-google/lib/data-google-project";
import { ProjectIamMember } from "@cdktf/provider-google/lib/project-iam-member";
import { SecretManagerSecretIamMember } from "@cdktf/provider-google/lib/secret-manager-secret-iam-member";
import { Construct } from "constructs";
import { accountIdPart } from "../config/account-ids";

export interface RunnerGrantsProps {
  readonly project: string;
  /** The plan token's secret. */
  readonly planTokenSecretId: string;
  /** Plan runners: read the plan token, nothing else in Secret Manager. */
  readonly planServiceAccounts: readonly string[];
  /** Apply runners: read the plan token (for their own plans) and the tenants' database passwords. */
  readonly applyServiceAccounts: readonly string[];
  /** Secrets named with this prefix hold tenants' PostgreSQL admin passwords. */
  readonly postgresPasswordSecretPrefix: string;
}

const member = (email: string) => `serviceAccount:${email}`;

/**
 * What the runners may read in Secret Manager, and nothing more: plans read the
 * read-only plan token; approved applies also read the tenants' database
 * passwords (secrets named <env>-tenant-postgres-<tenant>, by an IAM condition
 * on the name). No runner reads the keys, the root or generate-root token, or
 * the sidecar's token. Their other roles are the platform team's (README: what
 * the runners need).
 */
export class RunnerGrants extends Construct {
  constructor(scope: Construct, id: string, props: RunnerGrantsProps) {
    super(scope, id);
    const readers = [...new Set([...props.planServiceAccounts, ...props.applyServiceAccounts])];
    for (const email of readers) {
      new SecretManagerSecretIamMember(this, `plan-token-${accountIdPart(email)}`, {
        project: props.project,
        secretId: props.planTokenSecretId,
        role: "roles/secretmanager.secretAccessor",
        member: member(email),
      });
    }
    if (props.applyServiceAccounts.length === 0) return;
    const project = new DataGoogleProject(this, "project", { projectId: props.project });
    for (const email of props.applyServiceAccounts) {
      new ProjectIamMember(this, `postgres-passwords-${accountIdPart(email)}`, {
        project: props.project,
        role: "roles/secretmanager.secretAccessor",
        member: member(email),
        condition: {
          title: "tenant database passwords only",
          description: "Secrets whose names start with the tenants' PostgreSQL prefix",
          expression: `resource.name.startsWith("projects/${project.number}/secrets/${props.postgresPasswordSecretPrefix}")`,
        },
      });
    }
  }
}
