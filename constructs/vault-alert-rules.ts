// The alerts on a Vault environment, in one place: the platform stack declares
// one Cloud Monitoring alert policy per entry (a PromQL condition) and the synth
// writes the same entries as a Prometheus rule file, so `promtool test rules`
// tests exactly what pages. A pure module: no cdktf.

/** The operator's guide, where each alert's runbook is (the anchor is appended). */
export const RUNBOOK_DOC = "docs/operator-guide.md";

export type AlertSeverity = "critical" | "warning";

export interface VaultAlertRule {
  /** The Prometheus alert name (also the policy's display name, after the environment). */
  readonly name: string;
  readonly summary: string;
  /** The PromQL expression: it returns a series while the alert's condition holds. */
  readonly expr: string;
  /** How long the condition holds before the alert fires, in seconds (0: at once). */
  readonly forSec: number;
  readonly severity: AlertSeverity;
  /** The heading anchor in the operator's guide (without '#'). */
  readonly runbookAnchor: string;
}

export interface VaultAlertParams {
  /** The environment's name (a label on every alert). */
  readonly environment: string;
  /** The GKE cluster's name: Managed Prometheus labels every series with it. */
  readonly cluster: string;
  /** The Vault namespace. */
  readonly namespace: string;
  readonly replicas: number;
  /** Raft storage (quorum and snapshots); false for GCS. */
  readonly raft: boolean;
  /** Twice the longest gap of the snapshot schedule, in seconds (raft only). */
  readonly snapshotMaxAgeSec: number;
  /** Vault's own telemetry is scraped (vault.unauthenticatedMetrics): alerts on its series are declared only then. */
  readonly vaultMetrics: boolean;
}

/** The log-based metric (Cloud Logging) that counts the snapshot job's `snapshot stored` lines. */
export function snapshotStoredMetricName(environment: string): string {
  return `vault_snapshot_stored_${environment.replace(/[^A-Za-z0-9]/g, "_")}`;
}

/** Its PromQL name: Cloud Monitoring's logging.googleapis.com/user/<name>, mapped the documented way. */
export function snapshotStoredPromQlName(environment: string): string {
  return `logging_googleapis_com:user_${snapshotStoredMetricName(environment)}`;
}

/** VaultCertificateExpiring fires this many days before the served certificate or its CA expires. */
export const CERTIFICATE_WARNING_DAYS = 14;

/** The log-based metric (Cloud Logging) that counts the Vault containers' audit error lines. */
export function auditErrorsMetricName(environment: string): string {
  return `vault_audit_errors_${environment.replace(/[^A-Za-z0-9]/g, "_")}`;
}

/** Its PromQL name. */
export function auditErrorsPromQlName(environment: string): string {
  return `logging_googleapis_com:user_${auditErrorsMetricName(environment)}`;
}

/**
 * The lines it counts: error lines of Vault's audit module in the vault container (both distributions log
 * JSON with these keys: OpenBao "backend failed to log request", Vault "log request underlying pipeline error(s)").
 */
export const AUDIT_ERROR_LINE = { "@module": "audit", "@level": "error" } as const;

/** The smallest number of voters that keeps a Raft cluster writable. */
export function raftQuorum(replicas: number): number {
  return Math.floor(replicas / 2) + 1;
}

/** Every alert of one environment, in a fixed order. */
export function vaultAlertRules(p: VaultAlertParams): VaultAlertRule[] {
  const sel = `cluster="${p.cluster}",namespace="${p.namespace}"`;
  const rules: VaultAlertRule[] = [
    {
      name: "VaultSealed",
      summary: "A Vault server has been sealed for 5 minutes",
      expr: `max by (pod) (vault_gke_sidecar_vault_state{${sel},state="sealed"}) == 1`,
      forSec: 300,
      severity: "critical",
      runbookAnchor: "alert-vaultsealed",
    },
    {
      name: "VaultNoActiveNode",
      summary: "No Vault server is active: every request fails",
      expr: `sum(vault_gke_sidecar_vault_state{${sel},state="active"}) < 1 or absent(vault_gke_sidecar_vault_state{${sel},state="active"})`,
      forSec: 120,
      severity: "critical",
      runbookAnchor: "alert-vaultnoactivenode",
    },
  ];
  // One server has no failure tolerance by design; with 3 or more, fewer than quorum + 1 unsealed servers means the next loss stops writes.
  if (p.raft && p.replicas >= 3) {
    rules.push({
      name: "VaultRaftBelowQuorumPlusOne",
      summary: `Fewer than ${raftQuorum(p.replicas) + 1} of ${p.replicas} Vault servers are unsealed: one more loss stops writes`,
      expr: `count(vault_gke_sidecar_vault_state{${sel},state=~"active|standby|perf-standby"} == 1) < ${raftQuorum(p.replicas) + 1}`,
      forSec: 600,
      severity: "warning",
      runbookAnchor: "alert-vaultraftbelowquorumplusone",
    });
  }
  // Vault's own series exist only when its telemetry is scraped: an alert on a series that is never there never fires.
  if (p.vaultMetrics)
    rules.push({
      name: "VaultAuditDeviceFailures",
      summary: "Vault failed to write audit entries (requests are refused while no device can log)",
      // The requests no device could log, and (HashiCorp Vault only) each sink's failed writes. OpenBao 2.7.2 counts
      // no failure per device: one failing device beside a working one shows only in its log (VaultAuditDeviceErrors).
      expr: `sum(increase(vault_audit_log_request_failure{${sel}}[5m])) > 0 or sum(increase(vault_audit_sink_failure{${sel}}[5m])) > 0`,
      forSec: 0,
      severity: "critical",
      runbookAnchor: "alert-vaultauditdevicefailures",
    });
  // From the servers' own log lines (a log-based metric), so it needs no telemetry and sees one device failing
  // while another still logs (a full audit disk), which no metric of OpenBao's shows.
  rules.push({
    name: "VaultAuditDeviceErrors",
    summary: "An audit device failed to write entries (the servers logged audit errors): entries are missing from it",
    expr: `sum(increase(${auditErrorsPromQlName(p.environment)}[10m])) > 0`,
    forSec: 0,
    severity: "warning",
    runbookAnchor: "alert-vaultauditdeviceerrors",
  });
  rules.push(
    {
      name: "VaultSidecarDiagnosis",
      summary: "The sidecar reports a state only a human can resolve (the code label says which)",
      expr: `max by (pod, code) (vault_gke_sidecar_diagnosis{${sel}}) > 0`,
      forSec: 300,
      severity: "critical",
      runbookAnchor: "alert-vaultsidecardiagnosis",
    },
    {
      name: "VaultCertificateExpiring",
      summary: `The certificate a Vault server presents, or the CA that issued it, expires within ${CERTIFICATE_WARNING_DAYS} days`,
      expr: `min by (pod, certificate) (vault_gke_sidecar_certificate_expiry_timestamp_seconds{${sel}}) - time() < ${CERTIFICATE_WARNING_DAYS * 86400}`,
      forSec: 0,
      severity: "warning",
      runbookAnchor: "alert-vaultcertificateexpiring",
    },
    {
      name: "VaultVerifierFindings",
      summary: "Vault holds access that no stack or tenant file declares",
      expr: `sum by (kind) (vault_gke_verifier_findings{${sel}}) > 0`,
      forSec: 0,
      severity: "warning",
      runbookAnchor: "alert-vaultverifierfindings",
    },
    {
      name: "VaultVerifierStale",
      summary: "The verifier has not run to the end on the active pod for 15 minutes",
      // Or no pod reported a run for 15 minutes (no series at all would otherwise never fire).
      expr: `time() - max(vault_gke_verifier_last_run_timestamp_seconds{${sel}}) > 900 or absent_over_time(vault_gke_verifier_last_run_timestamp_seconds{${sel}}[15m])`,
      forSec: 0,
      severity: "warning",
      runbookAnchor: "alert-vaultverifierstale",
    },
    {
      name: "VaultSidecarLoopStuck",
      summary: "A sidecar's loop has not turned for 5 minutes (liveness restarts it)",
      expr: `time() - max by (pod) (vault_gke_sidecar_heartbeat_timestamp_seconds{${sel}}) > 300`,
      forSec: 0,
      severity: "warning",
      runbookAnchor: "alert-vaultsidecarloopstuck",
    },
    {
      name: "VaultPlanTokenExpiring",
      summary: "The plan token expires within 10 minutes: its renewal is failing and plans will fail next",
      // Only the active server's sidecar reports it; none for 15 minutes means nobody renews it.
      expr: `min(vault_gke_sidecar_token_expiry_timestamp_seconds{${sel},token="plan"}) - time() < 600 or absent_over_time(vault_gke_sidecar_token_expiry_timestamp_seconds{${sel},token="plan"}[15m])`,
      forSec: 0,
      severity: "warning",
      runbookAnchor: "alert-vaultplantokenexpiring",
    },
  );
  if (p.raft) {
    const metric = snapshotStoredPromQlName(p.environment);
    const window = `${p.snapshotMaxAgeSec}s`;
    rules.push({
      name: "VaultSnapshotStale",
      summary: "No snapshot was stored for twice the schedule's longest gap: no recent restorable backup",
      expr: `sum(increase(${metric}[${window}])) < 1 or absent_over_time(${metric}[${window}])`,
      forSec: 0,
      severity: "critical",
      runbookAnchor: "alert-vaultsnapshotstale",
    });
  }
  return rules;
}

/** "300s": whole seconds, a form both Prometheus and Cloud Monitoring's Duration accept. */
export function promDuration(sec: number): string {
  return `${sec}s`;
}

/** The runbook link, relative to the repository. */
export function runbookUrl(rule: VaultAlertRule): string {
  return `${RUNBOOK_DOC}#${rule.runbookAnchor}`;
}
