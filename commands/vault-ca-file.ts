// Vault's CA certificate for the root commands, from the file VAULT_CACERT
// names (as Vault's own CLI reads it): none set means the system CAs.
import { readFileSync } from "node:fs";

/** The CA's bytes, nothing when VAULT_CACERT is unset, or the problem naming the variable, the file and the fix. */
export function readVaultCaFile(env: NodeJS.ProcessEnv = process.env): { ca?: Buffer; problem?: string } {
  const file = env.VAULT_CACERT;
  if (!file) return {};
  try {
    return { ca: readFileSync(file) };
  } catch (error) {
    return { problem: `VAULT_CACERT: cannot read ${file} (${(error as NodeJS.ErrnoException).code}); point it at Vault's CA certificate` };
  }
}
