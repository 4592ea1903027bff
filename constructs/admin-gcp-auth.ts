import { GcpAuthBackend } from "@cdktf/provider-vault/lib/gcp-auth-backend";
import { GcpAuthBackendRole } from "@cdktf/provider-vault/lib/gcp-auth-backend-role";
import { Construct } from "constructs";
import { AUTH_PATHS, GCP_AUTH_ROLE, POLICY } from "../contract/vault-names";

export interface AdminGcpAuthProps {
  /** Google service accounts (emails) whose IAM logins get the admin policy. */
  readonly adminServiceAccounts: readonly string[];
  /**
   * Google service accounts whose logins get admin and break-glass. Nobody may
   * impersonate them by default. None: no break-glass role.
   */
  readonly breakGlassServiceAccounts: readonly string[];
  /** Lifetime of an admin's token. */
  readonly tokenTtlSec: number;
  /** Longest life of an admin's token with renewals. */
  readonly tokenMaxTtlSec: number;
  /** @default POLICY.admin ("admin") */
  readonly policy?: string;
  /** @default POLICY.breakGlass ("break-glass") */
  readonly breakGlassPolicy?: string;
}

/**
 * GCP auth for admins: IAM-type roles bound to named service accounts, with
 * short tokens. Vault verifies the signed JWTs with its own Google identity
 * (Workload Identity; the platform stack lets it read only those accounts),
 * so no credentials are configured here.
 */
export class AdminGcpAuth extends Construct {
  constructor(scope: Construct, id: string, props: AdminGcpAuthProps) {
    super(scope, id);
    if (props.adminServiceAccounts.length === 0)
      throw new Error("adminServiceAccounts is empty; list the admins' Google service accounts or leave GCP auth out");
    const backend = new GcpAuthBackend(this, "backend", { path: AUTH_PATHS.gcp, description: "admins' Google service accounts (vault-gke)" });
    const admin = props.policy ?? POLICY.admin;
    const role = (cid: string, name: string, accounts: readonly string[], policies: string[], ttl: number, maxTtl: number) =>
      new GcpAuthBackendRole(this, cid, {
        backend: backend.path,
        role: name,
        type: "iam",
        boundServiceAccounts: [...accounts],
        // Signed JWTs older than this are refused: a stolen one is useless soon.
        maxJwtExp: "900",
        tokenPolicies: policies,
        tokenTtl: ttl,
        tokenMaxTtl: maxTtl,
        tokenType: "service",
      });
    // Each role's construct id (its Terraform address) is fixed, whatever the role's name in Vault.
    role("admin", GCP_AUTH_ROLE.admin, props.adminServiceAccounts, [admin], props.tokenTtlSec, props.tokenMaxTtlSec);
    if (props.breakGlassServiceAccounts.length > 0) {
      // Emergencies are short: 15 minutes, no renewal past them.
      role("break-glass", GCP_AUTH_ROLE.breakGlass, props.breakGlassServiceAccounts, [admin, props.breakGlassPolicy ?? POLICY.breakGlass], 900, 900);
    }
  }
}
