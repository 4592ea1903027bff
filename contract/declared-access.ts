// The format of what the stacks declare about access to Vault (config/declared-access.ts
// renders it from an environment); the vault stack ships it to the sidecar, whose
// verifier compares Vault with it.

export interface DeclaredAuthMount {
  /** Mount path without the trailing slash, as in auth/<path>. */
  readonly path: string;
  readonly type: string;
  /** Roles and the exact policies each binds; undefined for tenant backends (role <t> binds tenant-<t>). */
  readonly roles?: Readonly<Record<string, readonly string[]>>;
  /** Whom each role lets in: role -> Vault field (bound_claims.<claim> for a bound claim) -> its values, in any order. */
  readonly bindings?: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;
  /** Backend settings that decide which tokens it trusts: Vault field -> value. */
  readonly config?: Readonly<Record<string, string>>;
  /** True for registered tenant clusters' backends. */
  readonly tenantCluster?: boolean;
}

export interface DeclaredAccess {
  readonly format: "vault-gke/declared-access/v1";
  readonly environment: string;
  readonly authMounts: readonly DeclaredAuthMount[];
  /** Longest lease a tenant engine or tenant auth backend may grant. */
  readonly maxTenantTtlSec: number;
  /** Policies vault-gke writes from policies/ (their text must match what ships). */
  readonly systemPolicies: readonly string[];
}
