import { SecretManagerSecret } from "@cdktf/provider-google/lib/secret-manager-secret";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";

export interface VaultSecretStoreProps {
  readonly project: string;
  readonly initResponseSecretId: string;
  readonly rootTokenSecretId: string;
  readonly provisionerTokenSecretId: string;
  readonly canarySecretId: string;
  readonly labels?: Record<string, string>;
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * Secret Manager secrets that the bootstrap sidecar fills: Terraform creates
 * the containers only, never a value, so no key or token passes through the
 * Terraform state. The key-holding secrets survive `terraform destroy`.
 */
export class VaultSecretStore extends Construct {
  readonly initResponse: SecretManagerSecret;
  readonly rootToken: SecretManagerSecret;
  readonly provisionerToken: SecretManagerSecret;
  readonly canary: SecretManagerSecret;

  constructor(scope: Construct, id: string, props: VaultSecretStoreProps) {
    super(scope, id);
    const secret = (cid: string, secretId: string, keepOnDestroy: boolean) =>
      new SecretManagerSecret(this, cid, {
        project: props.project,
        secretId,
        replication: { auto: {} },
        labels: props.labels,
        deletionProtection: keepOnDestroy,
        lifecycle: keepOnDestroy ? { preventDestroy: true } : undefined,
        dependsOn: props.dependsOn,
      });
    this.initResponse = secret("init-response", props.initResponseSecretId, true);
    this.rootToken = secret("root-token", props.rootTokenSecretId, true);
    this.provisionerToken = secret("provisioner-token", props.provisionerTokenSecretId, true);
    this.canary = secret("canary", props.canarySecretId, false);
  }

  /** Every secret the Vault pods write and read. */
  get all(): SecretManagerSecret[] {
    return [this.initResponse, this.rootToken, this.provisionerToken, this.canary];
  }
}
