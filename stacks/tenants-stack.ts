import { VaultProvider } from "@cdktf/provider-vault/lib/provider";
import { TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { vaultAddress } from "../config/names";
import type { EnvironmentConfig } from "../config/schema";
import { useGcsBackend } from "./backend";

export interface TenantsStackProps {
  readonly env: EnvironmentConfig;
}

/** Tenant auth and secrets engines, applied with the provisioner token (VAULT_TOKEN). */
export class TenantsStack extends TerraformStack {
  constructor(scope: Construct, id: string, props: TenantsStackProps) {
    super(scope, id);
    const { env } = props;
    useGcsBackend(this, env, id);
    // The token comes only from VAULT_TOKEN in the runner's environment.
    new VaultProvider(this, "vault", { address: vaultAddress(env), skipTlsVerify: false });
  }
}
