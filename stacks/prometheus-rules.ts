// The environments' alerts as Prometheus rule files, from the same module the
// platform stack's alert policies come from, so `promtool test rules` tests
// exactly what pages. Written beside the synthesized stacks.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import type { EnvironmentWithTenants } from "../config/load-project";
import type { EnvironmentConfig } from "../config/schema";
import { promDuration, runbookUrl, vaultAlertRules } from "../constructs/vault-alert-rules";
import { alertParams } from "./platform-stack";

/** The folder of the rule files, under the synth's output directory. */
export const PROMETHEUS_RULES_DIR = "prometheus-rules";

/** One environment's rule file: one group, one alerting rule per alert policy. */
export function renderPrometheusRules(env: EnvironmentConfig): string {
  const rules = vaultAlertRules(alertParams(env)).map((rule) => ({
    alert: rule.name,
    expr: rule.expr,
    for: promDuration(rule.forSec),
    labels: { severity: rule.severity, environment: env.name },
    annotations: { summary: rule.summary, runbook: runbookUrl(rule) },
  }));
  return stringify({ groups: [{ name: `vault-${env.name}`, interval: "60s", rules }] }, { lineWidth: 0 });
}

/** Writes <outdir>/prometheus-rules/<environment>.rules.yaml for every environment. */
export function writePrometheusRules(outdir: string, project: readonly EnvironmentWithTenants[]): string[] {
  const dir = join(outdir, PROMETHEUS_RULES_DIR);
  mkdirSync(dir, { recursive: true });
  return project.map(({ env }) => {
    const file = join(dir, `${env.name}.rules.yaml`);
    writeFileSync(file, renderPrometheusRules(env));
    return file;
  });
}
