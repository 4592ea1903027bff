import { TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config/schema";
import { useGcsBackend } from "./backend";
import { googleProviderFor, kubernetesProviderFor } from "./cluster-providers";
import type { PlatformStack } from "./platform-stack";

export interface VaultStackProps {
  readonly env: EnvironmentConfig;
  readonly platform: PlatformStack;
}

/** The Kubernetes side of Vault, on the platform stack's cluster. */
export class VaultStack extends TerraformStack {
  constructor(scope: Construct, id: string, props: VaultStackProps) {
    super(scope, id);
    const { env, platform } = props;
    useGcsBackend(this, env, id);
    googleProviderFor(this, env.project, env.region);
    kubernetesProviderFor(this, "kubernetes", platform.cluster);
  }
}
