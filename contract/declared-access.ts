// The format of what the stacks declare about access to Vault (config/declared-access.ts
// renders it from an environment and, for the runners' verifier, its tenant files); the
// vault stack ships it to the sidecar, whose verifier compares Vault with it.

import { createHash } from "node:crypto";

/** How the verifier compares a CA certificate, in what the stacks declare and in what Vault holds: not the PEM itself, which is long. */
export function caDigest(pem: string): string {
  return pem.trim() === "" ? "" : `sha256:${createHash("sha256").update(pem.trim()).digest("hex")}`;
}

/** A backend setting as the verifier compares it: a string, a switch, or a list in any order. CA certificates are compared by "sha256:<hex>" of the PEM. */
export type DeclaredSetting = string | boolean | readonly string[];

export interface DeclaredAuthMount {
  /** Mount path without the trailing slash, as in auth/<path>. */
  readonly path: string;
  readonly type: string;
  /** Roles and the exact policies each binds; undefined for tenant backends (role <t> binds tenant-<t>). */
  readonly roles?: Readonly<Record<string, readonly string[]>>;
  /** Whom each role lets in: role -> Vault field (bound_claims.<claim> for a bound claim) -> its values, in any order. */
  readonly bindings?: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;
  /** Backend settings that decide which tokens it trusts: Vault field -> value (an empty string or list: unset). */
  readonly config?: Readonly<Record<string, DeclaredSetting>>;
  /** True for registered tenant clusters' backends. */
  readonly tenantCluster?: boolean;
}

/** An audit device the vault stack declares (in the server configuration, or enabled by the sidecar through the API). */
export interface DeclaredAuditDevice {
  /** Its path without the trailing slash ("file", "stdout"). */
  readonly path: string;
  readonly type: "file";
  /** Where it writes; "stdout" for the standard output. Undefined: any file (the pod's audit disk). */
  readonly filePath?: string;
}

/** What one tenant file declares that decides who logs in as the tenant and where its database credentials go. */
export interface DeclaredTenant {
  /** The tenant cluster's backend its login role lives on (kubernetes-<cluster>). */
  readonly authPath: string;
  /** Whom its login role lets in: Vault field -> values, in any order (alias_name_source included). */
  readonly bindings: Readonly<Record<string, readonly string[]>>;
  /** Database connection name -> where it connects (its connection_url: Vault fills the user and password). */
  readonly databaseConnections: Readonly<Record<string, string>>;
  /** Database role name -> its creation statements, in order. */
  readonly databaseRoles: Readonly<Record<string, readonly string[]>>;
}

export interface DeclaredAccess {
  readonly format: "vault-gke/declared-access/v1";
  readonly environment: string;
  readonly authMounts: readonly DeclaredAuthMount[];
  /** Longest lease a tenant engine or tenant auth backend may grant. */
  readonly maxTenantTtlSec: number;
  /** Policies vault-gke writes from policies/ (their text must match what ships). */
  readonly systemPolicies: readonly string[];
  /** The audit devices every server has: no other may exist, none may log raw values (absent in declarations shipped before them). */
  readonly auditDevices?: readonly DeclaredAuditDevice[];
  /**
   * Tenant name -> what its file declares. Only the runners' verifier (`npm run verify`, with the
   * tenant files) has it; the sidecar's verifier checks tenants by convention alone.
   */
  readonly tenants?: Readonly<Record<string, DeclaredTenant>>;
  /**
   * True when `tenants` holds every tenant file of the environment: a tenant role or database without a file is then a
   * finding. False when it holds some (after one tenant's apply: other pull requests' tenants, applied before their
   * merge, have no file in this one).
   */
  readonly tenantFilesComplete?: boolean;
}
