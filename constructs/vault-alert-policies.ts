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
  /** The log-based metrics, by the alert that reads them. */
  readonly logMetrics: Record<string, LoggingMetric> = {};

  constructor(scope: Construct, id: string, props: VaultAlertPoliciesProps) {
    super(scope, id);
    const after = props.dependsOn ?? [];
    const inVaultNamespace = ['resource.type="k8s_container"', `resource.labels.namespace_name="${props.namespace}"`];
    // The alerts that read a log-based metric, and the metric each counts (the policy waits for it).
    const logMetrics: Record<string, { id: string; name: string; description: string; filter: string[] }> = {
      VaultSnapshotStale: {
        id: "snapshot-stored",
        name: snapshotStoredMetricName(props.environment),
        description: `Snapshots the ${props.environment} snapshot job stored (its "snapshot stored" log lines)`,
        filter: [...inVaultNamespace, 'jsonPayload.msg="snapshot stored"', `jsonPayload.environment="${props.environment}"`],
      },
      VaultAuditDeviceErrors: {
        id: "audit-errors",
        name: auditErrorsMetricName(props.environment),
        description: `Audit errors the ${props.environment} Vault servers logged (a device failed to write an entry)`,
        filter: [
          ...inVaultNamespace,
          'resource.labels.container_name="vault"',
          ...Object.entries(AUDIT_ERROR_LINE).map(([key, value]) => `jsonPayload."${key}"="${value}"`),
        ],
      },
    };
    for (const rule of props.rules) {
      const metric = logMetrics[rule.name];
      if (!metric) continue;
      this.logMetrics[rule.name] = new LoggingMetric(this, metric.id, {
        project: props.project,
        name: metric.name,
        description: metric.description,
        filter: metric.filter.join(" AND "),
        metricDescriptor: { metricKind: "DELTA", valueType: "INT64" },
        dependsOn: props.dependsOn,
      });
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
        dependsOn: this.logMetrics[rule.name] ? [...after, this.logMetrics[rule.name]] : props.dependsOn,
      });
    }
  }
}
