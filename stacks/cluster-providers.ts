import { DataGoogleClientConfig } from "@cdktf/provider-google/lib/data-google-client-config";
import { GoogleProvider } from "@cdktf/provider-google/lib/provider";
import { KubernetesProvider } from "@cdktf/provider-kubernetes/lib/provider";
import type { TerraformStack } from "cdktf";

export interface ClusterAccess {
  /** https:// URL of the API server. */
  readonly host: string;
  /** The cluster CA, PEM. */
  readonly caCertificatePem: string;
}

/**
 * A kubernetes provider that reaches a GKE cluster with the runner's Google
 * identity (Atlantis or CI): a short-lived OAuth token from google_client_config,
 * never a key file or a static token.
 */
export function kubernetesProviderFor(stack: TerraformStack, id: string, cluster: ClusterAccess, alias?: string): KubernetesProvider {
  const client = new DataGoogleClientConfig(stack, `${id}-client`);
  return new KubernetesProvider(stack, id, {
    alias,
    host: cluster.host,
    clusterCaCertificate: cluster.caCertificatePem,
    token: client.accessToken,
  });
}

export function googleProviderFor(stack: TerraformStack, project: string, region: string): GoogleProvider {
  return new GoogleProvider(stack, "google", { project, region });
}
