// The platform stack's alert policies and dashboard, and the one module their expressions come from.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  auditErrorsPromQlName,
  promDuration,
  raftQuorum,
  snapshotStoredPromQlName,
  vaultAlertRules,
  type VaultAlertParams,
} from "../../constructs/vault-alert-rules";
import { alertParams } from "../../stacks/platform-stack";
import { exampleEnv, resource, resources, synthEnvironment, type SynthResult } from "../helpers";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let synth: SynthResult;
beforeAll(() => {
  synth = synthEnvironment(exampleEnv());
});

const SEL = 'cluster="vault-example",namespace="vault"';
const params: VaultAlertParams = {
  environment: "example",
  cluster: "vault-example",
  namespace: "vault",
  replicas: 3,
  raft: true,
  snapshotMaxAgeSec: 7200,
  vaultMetrics: true,
};
const policies = () => resources(synth.platform, "google_monitoring_alert_policy").map(([, r]) => r as Obj);
const policy = (name: string) => policies().find((p) => p.display_name === `example: ${name}`) as Obj;
const condition = (name: string) => policy(name).conditions[0].condition_prometheus_query_language as Obj;

/** The sidecar's metric names, read from the code that registers them. */
const SIDECAR_METRICS = [...readFileSync(join(__dirname, "../../agent/src/sidecar/status.ts"), "utf8").matchAll(/name: "(vault_gke_[a-z_]+)"/g)].map(
  (m) => m[1],
);
/**
 * Vault's (and OpenBao's) names as its telemetry reference lists them (dots become underscores with
 * disable_hostname; summaries add _count and _sum): vault.audit.log_request_failure, vault.core.handle_request,
 * vault.core.handle_login_request, vault.core.leadership_lost, vault.raft.commitTime, vault.expire.num_leases.
 */
const VAULT_METRICS = [
  "vault_audit_log_request_failure",
  // HashiCorp Vault only: each sink's failed writes.
  "vault_audit_sink_failure",
  "vault_core_handle_request",
  "vault_core_handle_request_count",
  "vault_core_handle_login_request_count",
  "vault_core_leadership_lost_count",
  "vault_raft_commitTime",
  "vault_expire_num_leases",
];
/** Named in Vault's token telemetry but not confirmed against a running server yet (the dashboard only, never an alert). */
const UNCONFIRMED = ["vault_token_count"];
const metricNames = (expr: string) => [...expr.matchAll(/([A-Za-z_][A-Za-z0-9_:]*)(?=\{|\[)/g)].map((m) => m[1]);

describe("the alert rules (one source for the policies and the rule file)", () => {
  const rules = vaultAlertRules(params);
  const byName = Object.fromEntries(rules.map((r) => [r.name, r]));

  it("declares the alert on Vault's own series only when its telemetry is scraped (vault.unauthenticatedMetrics)", () => {
    expect(vaultAlertRules({ ...params, vaultMetrics: false }).map((r) => r.name)).not.toContain("VaultAuditDeviceFailures");
    expect(policies().map((p) => p.display_name)).not.toContain("example: VaultAuditDeviceFailures");
  });

  it("covers the README's alerts and the issue's", () => {
    expect(rules.map((r) => r.name)).toEqual([
      "VaultSealed",
      "VaultNoActiveNode",
      "VaultRaftBelowQuorumPlusOne",
      "VaultAuditDeviceFailures",
      "VaultAuditDeviceErrors",
      "VaultSidecarDiagnosis",
      "VaultCertificateExpiring",
      "VaultVerifierFindings",
      "VaultVerifierStale",
      "VaultSidecarLoopStuck",
      "VaultPlanTokenExpiring",
      "VaultSnapshotStale",
    ]);
  });

  it("says for each alert its expression, duration, severity and runbook anchor", () => {
    expect(byName.VaultSealed).toMatchObject({
      expr: `max by (pod) (vault_gke_sidecar_vault_state{${SEL},state="sealed"}) == 1`,
      forSec: 300,
      severity: "critical",
      runbookAnchor: "alert-vaultsealed",
    });
    expect(byName.VaultCertificateExpiring).toMatchObject({
      expr: `min by (pod, certificate) (vault_gke_sidecar_certificate_expiry_timestamp_seconds{${SEL}}) - time() < ${14 * 86400}`,
      forSec: 0,
      severity: "warning",
      runbookAnchor: "alert-vaultcertificateexpiring",
    });
    expect(byName.VaultAuditDeviceErrors).toMatchObject({
      expr: "sum(increase(logging_googleapis_com:user_vault_audit_errors_example[10m])) > 0",
      forSec: 0,
      severity: "warning",
      runbookAnchor: "alert-vaultauditdeviceerrors",
    });
    expect(byName.VaultNoActiveNode).toMatchObject({
      expr: `sum(vault_gke_sidecar_vault_state{${SEL},state="active"}) < 1 or absent(vault_gke_sidecar_vault_state{${SEL},state="active"})`,
      forSec: 120,
      severity: "critical",
    });
    expect(byName.VaultRaftBelowQuorumPlusOne).toMatchObject({
      expr: `count(vault_gke_sidecar_vault_state{${SEL},state=~"active|standby|perf-standby"} == 1) < 3`,
      forSec: 600,
      severity: "warning",
    });
    expect(byName.VaultAuditDeviceFailures).toMatchObject({
      expr: `sum(increase(vault_audit_log_request_failure{${SEL}}[5m])) > 0 or sum(increase(vault_audit_sink_failure{${SEL}}[5m])) > 0`,
      forSec: 0,
      severity: "critical",
    });
    expect(byName.VaultSidecarDiagnosis).toMatchObject({ expr: `max by (pod, code) (vault_gke_sidecar_diagnosis{${SEL}}) > 0`, forSec: 300 });
    expect(byName.VaultVerifierFindings).toMatchObject({ expr: `sum by (kind) (vault_gke_verifier_findings{${SEL}}) > 0`, forSec: 0 });
    expect(byName.VaultVerifierStale.expr).toBe(
      `time() - max(vault_gke_verifier_last_run_timestamp_seconds{${SEL}}) > 900 or absent_over_time(vault_gke_verifier_last_run_timestamp_seconds{${SEL}}[15m])`,
    );
    expect(byName.VaultSidecarLoopStuck.expr).toBe(`time() - max by (pod) (vault_gke_sidecar_heartbeat_timestamp_seconds{${SEL}}) > 300`);
    expect(byName.VaultPlanTokenExpiring.expr).toBe(
      `min(vault_gke_sidecar_token_expiry_timestamp_seconds{${SEL},token="plan"}) - time() < 600 or absent_over_time(vault_gke_sidecar_token_expiry_timestamp_seconds{${SEL},token="plan"}[15m])`,
    );
    const stored = "logging_googleapis_com:user_vault_snapshot_stored_example";
    expect(byName.VaultSnapshotStale).toMatchObject({
      expr: `sum(increase(${stored}[7200s])) < 1 or absent_over_time(${stored}[7200s])`,
      forSec: 0,
      severity: "critical",
    });
  });

  it("uses only metric names the sidecar registers, Vault's telemetry documents, or the log-based metrics", () => {
    expect(SIDECAR_METRICS).toContain("vault_gke_sidecar_vault_state");
    const known = new Set([...SIDECAR_METRICS, ...VAULT_METRICS, snapshotStoredPromQlName("example"), auditErrorsPromQlName("example")]);
    for (const rule of rules)
      for (const name of metricNames(rule.expr)) expect({ alert: rule.name, name, known: known.has(name) }).toEqual({ alert: rule.name, name, known: true });
  });

  it("has a unique name and a runbook anchor the operator's guide has for every alert", () => {
    expect(new Set(rules.map((r) => r.name)).size).toBe(rules.length);
    const guide = readFileSync(join(__dirname, "../../docs/operator-guide.md"), "utf8");
    const anchors = new Set(
      [...guide.matchAll(/^#+ (.+)$/gm)].map((m) =>
        m[1]
          .toLowerCase()
          .replace(/[^a-z0-9 -]/g, "")
          .replace(/ /g, "-"),
      ),
    );
    for (const rule of rules) expect({ alert: rule.name, anchor: anchors.has(rule.runbookAnchor) }).toEqual({ alert: rule.name, anchor: true });
  });

  it("leaves out quorum with one server and quorum and snapshots with GCS storage", () => {
    expect(vaultAlertRules({ ...params, replicas: 1 }).map((r) => r.name)).not.toContain("VaultRaftBelowQuorumPlusOne");
    const gcs = vaultAlertRules({ ...params, raft: false }).map((r) => r.name);
    expect(gcs).not.toContain("VaultRaftBelowQuorumPlusOne");
    expect(gcs).not.toContain("VaultSnapshotStale");
    expect(raftQuorum(3)).toBe(2);
    expect(raftQuorum(5)).toBe(3);
    expect(vaultAlertRules({ ...params, replicas: 5 }).find((r) => r.name === "VaultRaftBelowQuorumPlusOne")?.expr).toMatch(/< 4$/);
  });
});

describe("platform stack: alert policies", () => {
  it("computes the alerts from the environment: its cluster, namespace, replicas, storage, twice the snapshot schedule's longest gap and whether Vault's telemetry is scraped", () => {
    expect(alertParams(exampleEnv())).toEqual({ ...params, snapshotMaxAgeSec: 2 * 6 * 3600, vaultMetrics: false });
    expect(alertParams(exampleEnv({ vault: { unauthenticatedMetrics: true } })).vaultMetrics).toBe(true);
  });

  it("declares one policy per alert, each with its PromQL, duration, severity and runbook link", () => {
    const rules = vaultAlertRules(alertParams(exampleEnv()));
    expect(policies()).toHaveLength(rules.length);
    for (const rule of rules) {
      const p = policy(rule.name);
      expect(p.combiner).toBe("OR");
      expect(p.conditions).toHaveLength(1);
      expect(condition(rule.name)).toEqual({
        query: rule.expr,
        duration: promDuration(rule.forSec),
        evaluation_interval: "60s",
        alert_rule: rule.name,
        rule_group: "vault-example",
        labels: { severity: rule.severity, environment: "example" },
      });
      expect(p.severity).toBe(rule.severity.toUpperCase());
      expect(p.documentation.mime_type).toBe("text/markdown");
      expect(p.documentation.content).toContain(`Runbook: docs/operator-guide.md#${rule.runbookAnchor}`);
    }
    expect(condition("VaultSealed").duration).toBe("300s");
  });

  it("notifies no channel by default and the environment's channels when it names them", () => {
    for (const p of policies()) expect(p.notification_channels).toEqual([]);
    const channel = "projects/acme-vault-example/notificationChannels/42";
    const withChannel = synthEnvironment(exampleEnv({ alerting: { notificationChannels: [channel] } }));
    const all = resources(withChannel.platform, "google_monitoring_alert_policy").map(([, r]) => r as Obj);
    for (const p of all) expect(p.notification_channels).toEqual([channel]);
  });

  it("counts the snapshot job's stored snapshots in a log-based metric the stale alert reads", () => {
    const metric = resource(synth.platform, "google_logging_metric", "snapshot-stored") as Obj;
    expect(metric.name).toBe("vault_snapshot_stored_example");
    expect(metric.filter).toBe(
      'resource.type="k8s_container" AND resource.labels.namespace_name="vault" AND jsonPayload.msg="snapshot stored" AND jsonPayload.environment="example"',
    );
    expect(metric.metric_descriptor).toEqual({ metric_kind: "DELTA", value_type: "INT64" });
    expect(policy("VaultSnapshotStale").depends_on).toContainEqual(expect.stringMatching(/^google_logging_metric\./));
  });

  it("counts the Vault containers' audit error lines in a log-based metric the audit error alert reads", () => {
    const metric = resource(synth.platform, "google_logging_metric", "audit-errors") as Obj;
    expect(metric.name).toBe("vault_audit_errors_example");
    expect(metric.filter).toBe(
      'resource.type="k8s_container" AND resource.labels.namespace_name="vault" AND resource.labels.container_name="vault" AND jsonPayload."@module"="audit" AND jsonPayload."@level"="error"',
    );
    expect(metric.metric_descriptor).toEqual({ metric_kind: "DELTA", value_type: "INT64" });
    expect(policy("VaultAuditDeviceErrors").depends_on).toContainEqual(expect.stringMatching(/^google_logging_metric\..*audit-errors/));
  });

  it("waits for the Logging and Monitoring APIs", () => {
    for (const p of [
      ...policies(),
      ...resources(synth.platform, "google_logging_metric").map(([, m]) => m as Obj),
      resource(synth.platform, "google_monitoring_dashboard") as Obj,
    ])
      expect(p.depends_on).toEqual(
        expect.arrayContaining([expect.stringMatching(/^google_project_service\..*monitoring/), expect.stringMatching(/^google_project_service\..*logging/)]),
      );
  });
});

describe("platform stack: dashboard", () => {
  const dashboard = () => JSON.parse((resource(synth.platform, "google_monitoring_dashboard") as Obj).dashboard_json as string) as Obj;
  const queries = () =>
    (dashboard().mosaicLayout.tiles as Obj[]).flatMap((t) => (t.widget.xyChart.dataSets as Obj[]).map((d) => d.timeSeriesQuery.prometheusQuery as string));

  it("is the checked-in JSON with the environment's title and selector", () => {
    expect(dashboard().displayName).toBe("Vault (example)");
    expect(dashboard().mosaicLayout.columns).toBe(48);
    for (const q of queries()) expect(q).toContain(`{${SEL}`);
    expect(JSON.stringify(dashboard())).not.toMatch(/__[A-Z]+__|\$\{/);
  });

  it("charts request rate and latency, leader changes, Raft commit time, seal status, tokens and leases, the sidecar's state", () => {
    const titles = (dashboard().mosaicLayout.tiles as Obj[]).map((t) => t.widget.title as string);
    expect(titles).toEqual([
      "Requests per second",
      "Request latency, 99th percentile (ms)",
      "Leader changes (per hour)",
      "Raft commit time, 99th percentile (ms)",
      "Seal status: servers per state",
      "Tokens and leases",
      "Sidecar: diagnoses and verifier findings",
      "Sidecar: failed steps per minute",
    ]);
    const known = new Set([...SIDECAR_METRICS, ...VAULT_METRICS, ...UNCONFIRMED]);
    for (const q of queries()) for (const name of metricNames(q)) expect({ name, known: known.has(name) }).toEqual({ name, known: true });
  });
});
