// The Prometheus rule files the synth writes: the same alerts as the platform stack's policies.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { vaultAlertRules } from "../../constructs/vault-alert-rules";
import { alertParams } from "../../stacks/platform-stack";
import { PROMETHEUS_RULES_DIR, renderPrometheusRules, writePrometheusRules } from "../../stacks/prometheus-rules";
import { exampleEnv, exampleTenants, resources, synthEnvironment } from "../helpers";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe("Prometheus rule files", () => {
  const env = exampleEnv();
  const file = parse(renderPrometheusRules(env)) as Obj;

  it("hold one group per environment with one alerting rule per alert, in the module's order", () => {
    expect(file.groups).toHaveLength(1);
    expect(file.groups[0].name).toBe("vault-example");
    expect(file.groups[0].interval).toBe("60s");
    const rules = vaultAlertRules(alertParams(env));
    expect(file.groups[0].rules).toEqual(
      rules.map((r) => ({
        alert: r.name,
        expr: r.expr,
        for: `${r.forSec}s`,
        labels: { severity: r.severity, environment: "example" },
        annotations: { summary: r.summary, runbook: `docs/operator-guide.md#${r.runbookAnchor}` },
      })),
    );
  });

  it("carry exactly the expressions and durations of the platform stack's alert policies", () => {
    const policies = resources(synthEnvironment(env).platform, "google_monitoring_alert_policy").map(
      ([, p]) => (p as Obj).conditions[0].condition_prometheus_query_language as Obj,
    );
    const fromPolicies = Object.fromEntries(policies.map((c) => [c.alert_rule, { expr: c.query, for: c.duration }]));
    const fromFile = Object.fromEntries((file.groups[0].rules as Obj[]).map((r) => [r.alert, { expr: r.expr, for: r.for }]));
    expect(fromFile).toEqual(fromPolicies);
  });

  it("are written as <outdir>/prometheus-rules/<environment>.rules.yaml", () => {
    const outdir = mkdtempSync(join(tmpdir(), "vault-gke-rules-"));
    try {
      const written = writePrometheusRules(outdir, [{ env, tenants: exampleTenants(env) }]);
      expect(written).toEqual([join(outdir, PROMETHEUS_RULES_DIR, "example.rules.yaml")]);
      expect(readFileSync(written[0], "utf8")).toBe(renderPrometheusRules(env));
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
