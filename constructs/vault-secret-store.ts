import { SecretManagerSecret } from "@cdktf/provider-google/lib/secret-manager-secret";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";

export interface VaultSecretStoreProps {
  readonly project: string;
  readonly initResponseSecretId: string;
  readonly rootTokenSecretId: string;
  readonly planTokenSecretId: string;
  readonly sidecarTokenSecretId: string;
  readonly canarySecretId: string;
  /**
   * A destroyed version of a key-holding secret stays recoverable (disabled)
   * this long before it is gone. @default 30 days
   */
  readonly keyVersionDestroyDelaySec?: number;
  readonly labels?: Record<string, string>;
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * Secret Manager secrets that the bootstrap sidecar fills: Terraform creates
 * the containers only, never a value, so no key or token passes through the
 * Terraform state. The key-holding secrets survive `terraform destroy`, and a
 * destroyed version of them stays recoverable for a while (delayed destruction).
 * The token secrets hold only what the sidecar can make again.
 */
export class VaultSecretStore extends Construct {
  readonly initResponse: SecretManagerSecret;
  readonly rootToken: SecretManagerSecret;
  readonly planToken: SecretManagerSecret;
  readonly sidecarToken: SecretManagerSecret;
  readonly canary: SecretManagerSecret;

  constructor(scope: Construct, id: string, props: VaultSecretStoreProps) {
    super(scope, id);
    const delay = props.keyVersionDestroyDelaySec ?? 30 * 86_400;
    const secret = (cid: string, secretId: string, holdsKeys: boolean) =>
      new SecretManagerSecret(this, cid, {
        project: props.project,
        secretId,
        replication: { auto: {} },
        labels: props.labels,
        deletionProtection: holdsKeys,
        versionDestroyTtl: holdsKeys ? `${delay}s` : undefined,
        lifecycle: holdsKeys ? { preventDestroy: true } : undefined,
        dependsOn: props.dependsOn,
      });
    this.initResponse = secret("init-response", props.initResponseSecretId, true);
    // Holds the initial root token until the sidecar revokes it, then the generate-root token.
    this.rootToken = secret("root-token", props.rootTokenSecretId, true);
    this.planToken = secret("plan-token", props.planTokenSecretId, false);
    this.sidecarToken = secret("sidecar-token", props.sidecarTokenSecretId, false);
    this.canary = secret("canary", props.canarySecretId, false);
  }

  /** Every secret the Vault pods write and read, by a stable name (it becomes the Terraform address of the grants). */
  get byName(): Record<string, SecretManagerSecret> {
    return {
      "init-response": this.initResponse,
      "root-token": this.rootToken,
      "plan-token": this.planToken,
      "sidecar-token": this.sidecarToken,
      canary: this.canary,
    };
  }
}
