import { LoggingMetric } from "@cdktf/provider-google/lib/logging-metric";
import { MonitoringAlertPolicy } from "@cdktf/provider-google/lib/monitoring-alert-policy";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { AUDIT_ERROR_LINE, auditErrorsMetricName, promDuration, runbookUrl, snapshotStoredMetricName, type VaultAlertRule } from "./vault-alert-rules";

export interface VaultAlertPoliciesProps {
  readonly project: string;
  readonly environment: string;
  /** The alerts (vaultAlertRules): one policy each. */
  readonly rules: readonly VaultAlertRule[];
  /** Notification channel ids (projects/<p>/notificationChannels/<id>). @default none: the policies only open incidents */
  readonly notificationChannels?: readonly string[];
  /** The Vault namespace (the snapshot job's log lines are counted there). */
  readonly namespace: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** What must exist first (the Logging and Monitoring APIs). @default nothing */
  readonly dependsOn?: ITerraformDependable[];
}

const SEVERITY = { critical: "CRITICAL", warning: "WARNING" } as const;

/**
 * One Cloud Monitoring alert policy per alert, each with a PromQL condition
 * over the series Managed Prometheus collects and a link to its runbook; and
 * the log-based metrics the snapshot alert and the audit error alert count
 * (the job reports itself only in its log lines, and OpenBao counts no failure
 * of one audit device).
 */
export class VaultAlertPolicies extends Construct {
  readonly policies: Record<string, MonitoringAlertPolicy> = {};
  readonly snapshotStored?: LoggingMetric;
  readonly auditErrors?: LoggingMetric;

  constructor(scope: Construct, id: string, props: VaultAlertPoliciesProps) {
    super(scope, id);
    const names = new Set(props.rules.map((r) => r.name));
    const after = props.dependsOn ?? [];
    let dependsOn: ITerraformDependable[] = after;
    if (names.has("VaultSnapshotStale")) {
      this.snapshotStored = new LoggingMetric(this, "snapshot-stored", {
        project: props.project,
        name: snapshotStoredMetricName(props.environment),
        description: `Snapshots the ${props.environment} snapshot job stored (its "snapshot stored" log lines)`,
        filter: [
          'resource.type="k8s_container"',
          `resource.labels.namespace_name="${props.namespace}"`,
          'jsonPayload.msg="snapshot stored"',
          `jsonPayload.environment="${props.environment}"`,
        ].join(" AND "),
        metricDescriptor: { metricKind: "DELTA", valueType: "INT64" },
        dependsOn: props.dependsOn,
      });
      dependsOn = [...after, this.snapshotStored];
    }
    let auditDependsOn: ITerraformDependable[] = after;
    if (names.has("VaultAuditDeviceErrors")) {
      this.auditErrors = new LoggingMetric(this, "audit-errors", {
        project: props.project,
        name: auditErrorsMetricName(props.environment),
        description: `Audit errors the ${props.environment} Vault servers logged (a device failed to write an entry)`,
        filter: [
          'resource.type="k8s_container"',
          `resource.labels.namespace_name="${props.namespace}"`,
          'resource.labels.container_name="vault"',
          ...Object.entries(AUDIT_ERROR_LINE).map(([key, value]) => `jsonPayload."${key}"="${value}"`),
        ].join(" AND "),
        metricDescriptor: { metricKind: "DELTA", valueType: "INT64" },
        dependsOn: props.dependsOn,
      });
      auditDependsOn = [...after, this.auditErrors];
    }
    for (const rule of props.rules) {
      this.policies[rule.name] = new MonitoringAlertPolicy(this, rule.name, {
        project: props.project,
        displayName: `${props.environment}: ${rule.name}`,
        combiner: "OR",
        severity: SEVERITY[rule.severity],
        notificationChannels: props.notificationChannels ? [...props.notificationChannels] : undefined,
        userLabels: { ...(props.labels ?? {}), severity: rule.severity },
        documentation: {
          subject: `${props.environment}: ${rule.summary}`,
          mimeType: "text/markdown",
          content: `${rule.summary}.\n\nRunbook: ${runbookUrl(rule)}`,
        },
        conditions: [
          {
            displayName: rule.name,
            conditionPrometheusQueryLanguage: {
              query: rule.expr,
              duration: promDuration(rule.forSec),
              evaluationInterval: "60s",
              alertRule: rule.name,
              ruleGroup: `vault-${props.environment}`,
              labels: { severity: rule.severity, environment: props.environment },
            },
          },
        ],
        dependsOn: rule.name === "VaultSnapshotStale" ? dependsOn : rule.name === "VaultAuditDeviceErrors" ? auditDependsOn : props.dependsOn,
      });
    }
  }
}
