// Renders Vault's (and OpenBao's) server configuration as HCL text. A pure
// function: the vault stack ships its output in a ConfigMap, and the
// integration test loads the same text into real `bao server` processes.
import { VAULT_API_PORT, VAULT_CLUSTER_PORT } from "../contract/ports";

export interface RaftPeer {
  /** https://host:port of the peer's API. */
  readonly apiAddr: string;
  /** The name the peer's certificate is checked against. */
  readonly tlsServerName: string;
}

export type SealConfig =
  | { readonly type: "gcpckms"; readonly project: string; readonly region: string; readonly keyRing: string; readonly cryptoKey: string }
  | { readonly type: "transit"; readonly address: string; readonly keyName: string; readonly mountPath: string; readonly tlsCaCert?: string }
  | { readonly type: "shamir" };

export type StorageConfig =
  | {
      readonly type: "raft";
      readonly path: string;
      readonly peers: readonly RaftPeer[];
      readonly caCertFile: string;
      /** Raft timing; 1 is the production setting (Vault's default, 5, suits slow development machines). @default 1 */
      readonly performanceMultiplier?: number;
    }
  | { readonly type: "gcs"; readonly bucket: string };

export interface AuditFileDevice {
  /** The audit device's path (its name) in Vault. */
  readonly path: string;
  /** A file, or "stdout". */
  readonly filePath: string;
}

export interface VaultServerConfigProps {
  /** @default "[::]:8200" (every address, VAULT_API_PORT) */
  readonly listenAddress?: string;
  /** @default "[::]:8201" (every address, VAULT_CLUSTER_PORT) */
  readonly clusterListenAddress?: string;
  readonly tlsCertFile: string;
  readonly tlsKeyFile: string;
  /** Serve /v1/sys/metrics without a token (every client of the API listener can read it). @default false */
  readonly unauthenticatedMetrics?: boolean;
  readonly tlsMinVersion: "tls12" | "tls13";
  readonly storage: StorageConfig;
  readonly seal: SealConfig;
  /** Kubernetes service registration (labels the active pod vault-active=true). @default false */
  readonly serviceRegistration?: boolean;
  /**
   * Audit devices declared in the configuration. OpenBao refuses audit devices
   * created through the API (CVE-2025-54997) and reads them from here;
   * HashiCorp Vault does not support this stanza, so pass none for it (the
   * sidecar enables one through the API). @default none
   */
  readonly auditDevices?: readonly AuditFileDevice[];
  /**
   * OpenBao only: standbys forward reads to the active server instead of answering from
   * their own copy, so a client reads its own writes after a step-down or through a
   * standby (disable_standby_reads). @default false (the setting is left out)
   */
  readonly disableStandbyReads?: boolean;
  /** Serve the web UI. */
  readonly ui: boolean;
  readonly logLevel: string;
  /** api_addr; in Kubernetes it comes per pod from VAULT_API_ADDR instead. @default none */
  readonly apiAddr?: string;
  /** cluster_addr; in Kubernetes it comes per pod from VAULT_CLUSTER_ADDR instead. @default none */
  readonly clusterAddr?: string;
}

/** How long Vault's telemetry keeps a series after its last update. */
export const PROMETHEUS_RETENTION = "24h";

const quote = (value: string) => JSON.stringify(value);

function block(header: string, lines: readonly string[]): string {
  return [`${header} {`, ...lines.map((l) => (l === "" ? "" : `  ${l}`)), "}"].join("\n");
}

function attr(name: string, value: string | number | boolean): string {
  return `${name} = ${typeof value === "string" ? quote(value) : String(value)}`;
}

function storageBlock(storage: StorageConfig): string {
  if (storage.type === "gcs") {
    return block(`storage "gcs"`, [attr("bucket", storage.bucket), attr("ha_enabled", "true")]);
  }
  const joins = storage.peers.map((peer) =>
    block("retry_join", [
      attr("leader_api_addr", peer.apiAddr),
      attr("leader_ca_cert_file", storage.caCertFile),
      attr("leader_tls_servername", peer.tlsServerName),
    ]),
  );
  return block(`storage "raft"`, [
    attr("path", storage.path),
    // A lost leader is detected and replaced faster than with the default (see BENCHMARKS.md).
    attr("performance_multiplier", storage.performanceMultiplier ?? 1),
    ...joins.flatMap((j) => ["", ...j.split("\n")]),
  ]);
}

function sealBlock(seal: SealConfig): string | undefined {
  switch (seal.type) {
    case "shamir":
      return undefined;
    case "gcpckms":
      return block(`seal "gcpckms"`, [
        attr("project", seal.project),
        attr("region", seal.region),
        attr("key_ring", seal.keyRing),
        attr("crypto_key", seal.cryptoKey),
      ]);
    case "transit":
      return block(`seal "transit"`, [
        attr("address", seal.address),
        attr("key_name", seal.keyName),
        attr("mount_path", seal.mountPath),
        ...(seal.tlsCaCert ? [attr("tls_ca_cert", seal.tlsCaCert)] : []),
        // The token comes from VAULT_TOKEN / BAO_TOKEN in the environment, never from this file.
      ]);
  }
}

/** The server configuration: one TLS listener and no other. */
export function renderVaultServerConfig(props: VaultServerConfigProps): string {
  if (!props.tlsCertFile || !props.tlsKeyFile) {
    throw new Error("tlsCertFile and tlsKeyFile are required: the listener always serves TLS");
  }
  if (props.storage.type === "raft" && props.storage.peers.length === 0) {
    throw new Error("raft storage needs at least one peer to retry_join; list every server, including this one");
  }
  const sections: string[] = [];
  sections.push(
    [
      attr("ui", props.ui),
      attr("log_level", props.logLevel),
      attr("log_format", "json"),
      // Raft keeps its data on disk and mlock would pin it all in memory; the
      // container has no IPC_LOCK capability either (all capabilities are dropped).
      attr("disable_mlock", true),
      ...(props.disableStandbyReads ? [attr("disable_standby_reads", true)] : []),
      ...(props.apiAddr ? [attr("api_addr", props.apiAddr)] : []),
      ...(props.clusterAddr ? [attr("cluster_addr", props.clusterAddr)] : []),
    ].join("\n"),
  );
  sections.push(
    block(`listener "tcp"`, [
      attr("address", props.listenAddress ?? `[::]:${VAULT_API_PORT}`),
      attr("cluster_address", props.clusterListenAddress ?? `[::]:${VAULT_CLUSTER_PORT}`),
      attr("tls_disable", false),
      attr("tls_cert_file", props.tlsCertFile),
      attr("tls_key_file", props.tlsKeyFile),
      attr("tls_min_version", props.tlsMinVersion),
      "",
      // /v1/sys/metrics needs a token unless this is set. Off by default: on the API
      // port every client that reaches the API could read it (vault.unauthenticatedMetrics).
      ...block("telemetry", [attr("unauthenticated_metrics_access", props.unauthenticatedMetrics ?? false)]).split("\n"),
    ]),
  );
  sections.push(storageBlock(props.storage));
  const seal = sealBlock(props.seal);
  if (seal) sections.push(seal);
  if (props.serviceRegistration) sections.push(`service_registration "kubernetes" {}`);
  for (const device of props.auditDevices ?? []) {
    sections.push(
      block(`audit "file" ${quote(device.path)}`, [
        attr("description", "declared in the server configuration by vault-gke"),
        ...block("options", [attr("file_path", device.filePath), attr("log_raw", "false"), attr("mode", "0600")]).split("\n"),
      ]),
    );
  }
  // A series stays this long after its last update (Vault's default): the token and lease gauges update every
  // 10 minutes and a leadership loss counts once, so a short retention would empty those dashboard charts.
  sections.push(block("telemetry", [attr("prometheus_retention_time", PROMETHEUS_RETENTION), attr("disable_hostname", true)]));
  return `${sections.join("\n\n")}\n`;
}
