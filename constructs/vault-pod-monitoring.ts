import { Manifest } from "@cdktf/provider-kubernetes/lib/manifest";
import { Construct } from "constructs";
import { SIDECAR_HTTP_PORT, VAULT_API_PORT } from "../contract/ports";
import { VAULT_POD_LABELS } from "./vault-naming";

/** Where Google Managed Service for Prometheus runs its collectors (the NetworkPolicy's peer). */
export const GMP_COLLECTOR = { namespace: "gmp-system", podLabels: { "app.kubernetes.io/name": "collector" } } as const;

/** Vault's telemetry endpoint and the query parameter that selects the Prometheus format. */
export const VAULT_METRICS_PATH = "/v1/sys/metrics";

export interface VaultPodMonitoringProps {
  readonly namespace: string;
  /** Scrape Vault's own telemetry too (only when the listener serves it without a token: vault.unauthenticatedMetrics). */
  readonly vaultTelemetry: boolean;
  /** How often both endpoints are scraped. @default "30s" */
  readonly interval?: string;
}

/**
 * A PodMonitoring (Google Managed Service for Prometheus) for every Vault pod:
 * the sidecar's /metrics, and, when the environment chose to serve it without a
 * token (vault.unauthenticatedMetrics), Vault's telemetry over its TLS listener. It is a
 * kubernetes_manifest, so the PodMonitoring CRD must exist at plan time: the
 * platform's cluster enables managed Prometheus; an existing cluster needs it
 * enabled before the vault stack is planned.
 *
 * The scrape skips certificate verification: it carries no credential, and
 * verifying would need the collector to read the Vault namespace's TLS Secret.
 */
export class VaultPodMonitoring extends Construct {
  readonly manifest: Manifest;

  constructor(scope: Construct, id: string, props: VaultPodMonitoringProps) {
    super(scope, id);
    const interval = props.interval ?? "30s";
    this.manifest = new Manifest(this, "pod-monitoring", {
      manifest: {
        apiVersion: "monitoring.googleapis.com/v1",
        kind: "PodMonitoring",
        metadata: { name: "vault", namespace: props.namespace },
        spec: {
          selector: { matchLabels: { ...VAULT_POD_LABELS } },
          endpoints: [
            ...(props.vaultTelemetry
              ? [
                  {
                    port: VAULT_API_PORT,
                    scheme: "https",
                    path: VAULT_METRICS_PATH,
                    params: { format: ["prometheus"] },
                    interval,
                    tls: { insecureSkipVerify: true },
                  },
                ]
              : []),
            { port: SIDECAR_HTTP_PORT, scheme: "http", path: "/metrics", interval },
          ],
        },
      },
    });
  }
}
