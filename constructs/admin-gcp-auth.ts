import { GcpAuthBackend } from "@cdktf/provider-vault/lib/gcp-auth-backend";
import { GcpAuthBackendRole } from "@cdktf/provider-vault/lib/gcp-auth-backend-role";
import { Construct } from "constructs";

export interface AdminGcpAuthProps {
  /** Google service accounts (emails) whose IAM logins get the admin policy. */
  readonly adminServiceAccounts: readonly string[];
  /** @default 1800 */
  readonly tokenTtlSec?: number;
  /** @default 3600 */
  readonly tokenMaxTtlSec?: number;
  /** @default "admin" */
  readonly policy?: string;
}

/**
 * GCP auth for admins: an IAM-type role bound to named service accounts, with
 * short tokens. Vault verifies the signed JWTs with its own Google identity
 * (Workload Identity; the platform stack lets it read only those accounts),
 * so no credentials are configured here.
 */
export class AdminGcpAuth extends Construct {
  constructor(scope: Construct, id: string, props: AdminGcpAuthProps) {
    super(scope, id);
    if (props.adminServiceAccounts.length === 0) throw new Error("adminServiceAccounts is empty; list the admins' Google service accounts or leave GCP auth out");
    const backend = new GcpAuthBackend(this, "backend", { path: "gcp", description: "admins' Google service accounts (vault-gke)" });
    new GcpAuthBackendRole(this, "admin", {
      backend: backend.path,
      role: "admin",
      type: "iam",
      boundServiceAccounts: [...props.adminServiceAccounts],
      // Signed JWTs older than this are refused: a stolen one is useless soon.
      maxJwtExp: "900",
      tokenPolicies: [props.policy ?? "admin"],
      tokenTtl: props.tokenTtlSec ?? 1800,
      tokenMaxTtl: props.tokenMaxTtlSec ?? 3600,
      tokenType: "service",
    });
  }
}
