import { VaultProvider } from "@cdktf/provider-vault/lib/provider";
import type { TerraformStack } from "cdktf";
import { vaultAddress } from "../config/names";
import type { EnvironmentConfig } from "../config/schema";

/**
 * The Vault provider of the shared and tenant stacks: verified TLS, and no
 * token in the configuration: VAULT_TOKEN comes from the runner's environment
 * (the plan token for plans, a per-apply login for applies, an admin's login
 * for the shared stack). The child token it makes lives 20 minutes at most.
 */
export function vaultProviderFor(stack: TerraformStack, env: EnvironmentConfig, tokenName: string): VaultProvider {
  return new VaultProvider(stack, "vault", {
    address: vaultAddress(env),
    skipTlsVerify: false,
    maxLeaseTtlSeconds: 1200,
    tokenName,
  });
}
