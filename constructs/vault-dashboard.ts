import { MonitoringDashboard } from "@cdktf/provider-google/lib/monitoring-dashboard";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import template from "./vault-dashboard.json";

export interface VaultDashboardProps {
  readonly project: string;
  readonly environment: string;
  /** The GKE cluster's name (Managed Prometheus' cluster label). */
  readonly cluster: string;
  readonly namespace: string;
  /** What must exist first (the Monitoring API). @default nothing */
  readonly dependsOn?: ITerraformDependable[];
}

/** The checked-in dashboard (vault-dashboard.json) with its placeholders filled in for one environment. */
export function renderVaultDashboard(props: Omit<VaultDashboardProps, "project" | "dependsOn">): string {
  const selector = `cluster="${props.cluster}",namespace="${props.namespace}"`;
  return JSON.stringify(template).replaceAll("__TITLE__", `Vault (${props.environment})`).replaceAll("__SELECTOR__", selector.replaceAll('"', '\\"'));
}

/**
 * A Cloud Monitoring dashboard over the series Managed Prometheus collects:
 * request rate and latency, leader changes, Raft commit time, seal status,
 * tokens and leases, the sidecar's state.
 */
export class VaultDashboard extends Construct {
  readonly dashboard: MonitoringDashboard;

  constructor(scope: Construct, id: string, props: VaultDashboardProps) {
    super(scope, id);
    this.dashboard = new MonitoringDashboard(this, "dashboard", {
      project: props.project,
      dashboardJson: renderVaultDashboard(props),
      dependsOn: props.dependsOn,
    });
  }
}
