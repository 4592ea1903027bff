// A promtool test file (`promtool test rules`) over the rule file the synth
// writes: test groups of recorded series, alert cases that say which alerts
// fire at which minute, and a guard that every rule has a case in each
// direction.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { projectRoot } from "../support/bao";
import type { Labels } from "./exposition";
import { inputSeries, type Phase } from "./timeline";

export const PROMTOOL = join(projectRoot(), ".tools", "bin", "promtool");

/** One alerting rule as the rule file holds it. */
export interface RuleFileRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: Labels;
  readonly annotations: Labels;
}

/** The alerting rules of a rule file's text (stacks/prometheus-rules.ts writes one group). */
export function rulesOf(ruleFileText: string): RuleFileRule[] {
  const file = parse(ruleFileText) as { groups: { rules: RuleFileRule[] }[] };
  return file.groups.flatMap((g) => g.rules);
}

/** The metric names a PromQL expression selects (a name followed by a selector or a range). */
export function metricNames(expr: string): string[] {
  return [...expr.matchAll(/([A-Za-z_][A-Za-z0-9_:]*)(?=\{|\[)/g)].map((m) => m[1]).filter((n) => !/^(by|without|on|ignoring)$/.test(n));
}

export interface AlertCase {
  readonly alertname: string;
  readonly minute: number;
  /** The labels of each alert the expression yields at that minute (the rule's own labels are added); none: quiet. */
  readonly fires: readonly Labels[];
}

export interface TestGroup {
  readonly name: string;
  /** Rows of phases laid out side by side from minute 0 (for example the pods' scrapes and the log-based metric). */
  readonly rows: readonly (readonly Phase[])[];
  readonly cases: readonly AlertCase[];
}

/** The test file's document: every group's series (only the metrics the rules read) and its cases. */
export function promtoolTestFile(ruleFile: string, rules: readonly RuleFileRule[], groups: readonly TestGroup[]): string {
  const byName = new Map(rules.map((r) => [r.alert, r]));
  const names = new Set(rules.flatMap((r) => metricNames(r.expr)));
  const tests = groups.map((g) => ({
    name: g.name,
    interval: "1m",
    input_series: inputSeries(g.rows, names),
    alert_rule_test: g.cases.map((c) => {
      const rule = byName.get(c.alertname);
      if (!rule) throw new Error(`a case names ${c.alertname}, which the rule file does not hold`);
      return {
        eval_time: `${c.minute}m`,
        alertname: c.alertname,
        exp_alerts: c.fires.map((labels) => ({ exp_labels: { ...labels, ...rule.labels }, exp_annotations: rule.annotations })),
      };
    }),
  }));
  return stringify({ rule_files: [ruleFile], evaluation_interval: "1m", tests }, { lineWidth: 0 });
}

/** Rules without a case where they fire, or without one where they stay quiet ("<name>: fires" / "<name>: quiet"). */
export function missingCases(rules: readonly RuleFileRule[], groups: readonly TestGroup[]): string[] {
  const cases = groups.flatMap((g) => g.cases);
  return rules.flatMap((r) => [
    ...(cases.some((c) => c.alertname === r.alert && c.fires.length > 0) ? [] : [`${r.alert}: fires`]),
    ...(cases.some((c) => c.alertname === r.alert && c.fires.length === 0) ? [] : [`${r.alert}: quiet`]),
  ]);
}

export interface PromtoolRun {
  readonly status: number | null;
  readonly output: string;
}

/** `promtool test rules <file>`: its exit status and everything it printed. */
export function promtoolTestRules(testFile: string): PromtoolRun {
  if (!existsSync(PROMTOOL)) throw new Error(`${PROMTOOL} is missing: run \`npm run tools\` first`);
  const run = spawnSync(PROMTOOL, ["test", "rules", testFile], { encoding: "utf8", timeout: 120_000 });
  if (run.error) throw run.error;
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}
