// What the verifier reports: one finding per deviation, by kind and Vault path, and the comparisons
// its checks share.

export type FindingKind =
  | "undeclared-auth-method"
  | "missing-auth-method"
  | "auth-method-type"
  | "undeclared-mount"
  | "plaintext-audit"
  | "lease-ceiling"
  | "role-policies"
  | "role-binding"
  | "auth-config"
  | "undeclared-role"
  | "missing-role"
  | "role-audience"
  | "role-period"
  | "token-role"
  | "kv-version-expiry"
  | "database-plugin"
  | "tenant-policy"
  | "orphan-tenant-policy"
  | "system-policy"
  | "missing-tenant-policy"
  | "audit-device"
  | "database-connection"
  | "database-statements";

export interface Finding {
  readonly kind: FindingKind;
  /** The Vault path concerned. */
  readonly path: string;
  /** What is wrong, in a sentence (no secret: paths, names and policy names only). */
  readonly detail: string;
}

/** The same values in any order. */
export const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().every((v, i) => v === [...b].sort()[i]);

/** Differences between the bindings a role holds and those declared, as "field = values" (empty when none). */
export function bindingDifferences(held: Readonly<Record<string, readonly string[]>>, want: Readonly<Record<string, readonly string[]>>): string[] {
  const fields = [...new Set([...Object.keys(want), ...Object.keys(held)])].sort();
  return fields.filter((f) => !same(held[f] ?? [], want[f] ?? [])).map((f) => `${f} = ${(held[f] ?? []).join(", ") || "unset"}`);
}
