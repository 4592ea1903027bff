// The target vault of a restore: is it ready (reachable, initialized,
// unsealed, active), may the token restore, and is it empty.
//
// "Empty" means nothing would be lost by overwriting it:
//   - no secrets engines besides the built-in cubbyhole/, identity/ and sys/;
//   - no auth methods besides the built-in token/;
//   - no ACL policies besides the built-in default and root, and the platform's
//     own policies that the bootstrap sidecar writes from policies/*.hcl on
//     every vault (the snapshot holds its own copies of them);
//   - no identity entities and no identity groups.
// Tokens are not counted: a freshly initialized vault always holds some (the
// root token, the sidecar's), and the restore replaces the whole token store.
import { POLICY } from "../../../contract/vault-names";
import type { SnapshotVault } from "../vault/snapshot-api";
import { healthKind, VaultError } from "../vault/client";

export const BUILT_IN_MOUNTS: readonly string[] = ["cubbyhole/", "identity/", "sys/"];
export const BUILT_IN_AUTH_METHODS: readonly string[] = ["token/"];
export const BUILT_IN_POLICIES: readonly string[] = ["default", "root"];
/** Written by the bootstrap sidecar from policies/*.hcl (a unit test keeps the names in step with that folder). */
export const PLATFORM_POLICIES: readonly string[] = Object.values(POLICY);

export const RESTORE_PATH = "sys/storage/raft/snapshot-force";

export interface TargetContents {
  /** Mount path -> engine type. */
  readonly mounts: Readonly<Record<string, string>>;
  readonly authMethods: Readonly<Record<string, string>>;
  readonly policies: readonly string[];
  readonly entities: number;
  readonly groups: number;
}

/** One line per kind of content that makes the target not empty; none when it is empty. */
export function whyNotEmpty(contents: TargetContents): string[] {
  const reasons: string[] = [];
  const extra = (all: Readonly<Record<string, string>>, builtIn: readonly string[]) =>
    Object.entries(all)
      .filter(([path]) => !builtIn.includes(path))
      .map(([path, type]) => `${path} (${type})`)
      .sort();
  const mounts = extra(contents.mounts, BUILT_IN_MOUNTS);
  if (mounts.length) reasons.push(`secrets engines: ${mounts.join(", ")}`);
  const auth = extra(contents.authMethods, BUILT_IN_AUTH_METHODS);
  if (auth.length) reasons.push(`auth methods: ${auth.join(", ")}`);
  const policies = contents.policies.filter((p) => !BUILT_IN_POLICIES.includes(p) && !PLATFORM_POLICIES.includes(p)).sort();
  if (policies.length) reasons.push(`policies: ${policies.join(", ")}`);
  if (contents.entities) reasons.push(`identity entities: ${contents.entities}`);
  if (contents.groups) reasons.push(`identity groups: ${contents.groups}`);
  return reasons;
}

/** Why the target cannot take a restore now, or undefined when it is an initialized, unsealed, active server. */
export async function notReadyReason(vault: SnapshotVault): Promise<string | undefined> {
  const res = await vault.json("GET", "sys/health");
  switch (healthKind(res.status)) {
    case "active":
      return undefined;
    case "standby":
      return `${vault.address} is a standby; point VAULT_ADDR at the active server (the vault-active service)`;
    case "uninitialized":
      return `${vault.address} is not initialized; initialize it (the bootstrap sidecar does) before restoring into it`;
    case "sealed":
      return `${vault.address} is sealed; unseal it with its own keys before restoring into it`;
    case "removed":
      return `${vault.address} was removed from the Raft cluster; point VAULT_ADDR at the active server (the vault-active service)`;
    default:
      return `${vault.address} answered sys/health with HTTP ${res.status}; it must be an active, unsealed server`;
  }
}

/** Why the token may not force a snapshot restore, or undefined when it may (root, or update on the restore path). */
export async function tokenRefusal(vault: SnapshotVault, token: string): Promise<string | undefined> {
  const res = await vault.json("POST", "sys/capabilities-self", { token, body: { paths: [RESTORE_PATH] } });
  // Vault answers 403 alike for a token it does not know and for one without the default policy (which grants this path).
  if (res.status === 403)
    return "VAULT_TOKEN was refused by the target vault (HTTP 403 on sys/capabilities-self): it is not valid there, or lacks the default policy; use a root token of the target vault";
  if (res.status !== 200) throw new VaultError("sys/capabilities-self", res.status, []);
  const caps = (res.body[RESTORE_PATH] ?? (res.body.data as Record<string, unknown> | undefined)?.[RESTORE_PATH]) as string[] | undefined;
  const may = caps?.includes("root") || caps?.includes("update");
  return may
    ? undefined
    : `VAULT_TOKEN may not restore (capabilities on ${RESTORE_PATH}: ${(caps ?? []).join(", ") || "none"}); use a root token of the target vault`;
}

async function listCount(vault: SnapshotVault, token: string, path: string): Promise<number> {
  const res = await vault.json("LIST", path, { token });
  if (res.status === 404) return 0;
  if (res.status !== 200) throw new VaultError(`LIST ${path}`, res.status, []);
  return ((res.body.data as { keys?: unknown[] } | undefined)?.keys ?? []).length;
}

function typesByPath(body: Record<string, unknown>): Record<string, string> {
  const data = (body.data ?? body) as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(data)
      .filter(([path, v]) => path.endsWith("/") && v && typeof v === "object")
      .map(([path, v]) => [path, String((v as { type?: unknown }).type ?? "unknown")]),
  );
}

export async function inspectTarget(vault: SnapshotVault, token: string): Promise<TargetContents> {
  const mounts = await vault.expect("GET sys/mounts", "GET", "sys/mounts", [200], { token });
  const auth = await vault.expect("GET sys/auth", "GET", "sys/auth", [200], { token });
  const policies = await vault.expect("LIST sys/policies/acl", "LIST", "sys/policies/acl", [200], { token });
  return {
    mounts: typesByPath(mounts.body),
    authMethods: typesByPath(auth.body),
    policies: ((policies.body.data as { keys?: unknown[] } | undefined)?.keys ?? []).map(String),
    entities: await listCount(vault, token, "identity/entity/id"),
    groups: await listCount(vault, token, "identity/group/id"),
  };
}
