// Issue 18: every alert tested with promtool against series recorded from real
// servers. recorded-world.ts drives one three-server cluster with its real
// sidecars through the states the alerts are about and scrapes every target at
// each; scenarios.ts lays the scrapes out on promtool's time axis with the
// labels Managed Prometheus adds (timeline.ts, exposition.ts) and says when each
// alert must fire and when it must stay quiet; `promtool test rules` then runs
// the rule file exactly as the synth writes it (stacks/prometheus-rules.ts) for
// the example environment with vault.unauthenticatedMetrics on, so the alert on
// Vault's own series is declared too.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { auditErrorsPromQlName, snapshotStoredPromQlName } from "../../constructs/vault-alert-rules";
import { renderVaultDashboard } from "../../constructs/vault-dashboard";
import { longestCronGapSec } from "../../config/cron";
import { alertParams } from "../../stacks/platform-stack";
import { renderPrometheusRules } from "../../stacks/prometheus-rules";
import { exampleEnv, resource, synthEnvironment } from "../helpers";
import { DISTRIBUTION, stopAllBao } from "../support/bao";
import { recordAuditFailure, type AuditRecordings } from "./audit-failure";
import { metricNames, missingCases, promtoolTestFile, promtoolTestRules, rulesOf } from "./promtool";
import { DIAGNOSIS, RecordedWorld, type ClusterRecordings } from "./recorded-world";
import { podsIn, samplesOf } from "./recorder";
import { HEARTBEAT, testGroups, type Recorded } from "./scenarios";
import { matchingLines, payloadClauses } from "../support/log-lines";

jest.setTimeout(180_000);

/** The environment whose rule file is tested: the example, with Vault's telemetry scraped. */
const ruleEnv = exampleEnv({ vault: { unauthenticatedMetrics: true } });
const params = alertParams(ruleEnv);
const where = { cluster: params.cluster, namespace: params.namespace };
/** The servers run the distribution under test with the example's settings (three replicas, auto-unseal). */
const worldEnv = exampleEnv({ vault: { distribution: DISTRIBUTION, replicas: 3, seal: "gcpckms", unauthenticatedMetrics: true } });
const ruleText = renderPrometheusRules(ruleEnv);
const rules = rulesOf(ruleText);

let dir: string;
let world: RecordedWorld;
let cluster: ClusterRecordings;
let audit: AuditRecordings;
let recorded: Recorded;
let auditClauses: Record<string, string>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "vault-gke-alert-rules-"));
  world = new RecordedWorld(worldEnv, where, params.snapshotMaxAgeSec);
  cluster = await world.run();
  audit = await recordAuditFailure(join(dir, "audit"), { ...where, pod: world.world.cluster.nodes[0].name });
  const platform = synthEnvironment(ruleEnv).platform;
  const filterOf = (part: string) => String((resource(platform, "google_logging_metric", part) as { filter: string }).filter);
  const clauses = payloadClauses(filterOf("snapshot-stored"));
  auditClauses = payloadClauses(filterOf("audit-errors"));
  recorded = {
    healthy: cluster.healthy,
    stuck: cluster.stuck[0],
    stuckPod: world.world.cluster.nodes[0].name,
    diagnosis: cluster.diagnosis,
    finding: cluster.finding,
    certificate: cluster.certificate,
    sealed: cluster.sealed,
    leaderLost: cluster.leaderLost,
    auditBefore: audit.before,
    auditFailing: audit.failing,
    snapshotLines: {
      stored: matchingLines(cluster.snapshotRuns.stored.lines, clauses).length,
      failed: matchingLines(cluster.snapshotRuns.failed.lines, clauses).length,
    },
    auditErrorLines: matchingLines(audit.logLines.failing, auditClauses).length,
  };
  // The figure for BENCHMARKS.md: when each state was recorded, in seconds from the start.
  const steps = Object.entries(cluster.steps).map(([step, ms]) => `${step} ${(ms / 1000).toFixed(1)}`);
  process.stdout.write(`alert rules: states recorded at (s): ${steps.join(", ")}\n`);
}, 170_000);

afterAll(async () => {
  await world?.teardown();
  await stopAllBao();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const value = (name: string, pod: string, labels: Record<string, string> = {}) =>
  samplesOf(cluster.healthy, name, pod).find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

describe("the recorded states", () => {
  it("stuck loop: the held sidecar's heartbeat stands still while the others advance, and its /metrics answers", () => {
    const [first, second] = cluster.stuck;
    const heartbeat = (r: typeof first, pod: string) => samplesOf(r, HEARTBEAT, pod)[0]?.value;
    const pods = world.world.cluster.nodes.map((n) => n.name);
    expect(heartbeat(first, pods[0])).toBeDefined();
    expect(heartbeat(second, pods[0])).toBe(heartbeat(first, pods[0]));
    for (const pod of pods.slice(1)) expect(heartbeat(second, pod)).toBeGreaterThan(heartbeat(first, pod) as number);
  });

  it("healthy: one active and two standby servers, no diagnosis, no finding, no audit failure", () => {
    const active = podsIn(cluster.healthy, "active");
    expect(active).toHaveLength(1);
    expect(podsIn(cluster.healthy, "standby")).toHaveLength(2);
    expect(samplesOf(cluster.healthy, "vault_gke_sidecar_diagnosis").filter((s) => s.value > 0)).toEqual([]);
    expect(samplesOf(cluster.healthy, "vault_gke_verifier_findings").filter((s) => s.value > 0)).toEqual([]);
    expect(value("vault_audit_log_request_failure", active[0])).toBe(0);
    // Managed Prometheus' labels are on every sample; Vault's own would have been kept as exported_*.
    expect(cluster.healthy.samples.every((s) => s.labels.cluster === where.cluster && s.labels.namespace === where.namespace)).toBe(true);
  });

  it("diagnosis, finding, sealed and leader lost show what the alerts read", () => {
    const pods = world.world.cluster.nodes.map((n) => n.name);
    expect(
      samplesOf(cluster.diagnosis, "vault_gke_sidecar_diagnosis")
        .filter((s) => s.value > 0)
        .map((s) => [s.labels.pod, s.labels.code]),
    ).toEqual([[pods[2], DIAGNOSIS]]);
    expect(
      samplesOf(cluster.finding, "vault_gke_verifier_findings")
        .filter((s) => s.value > 0)
        .map((s) => s.labels.kind),
    ).toEqual(["undeclared-mount"]);
    expect(podsIn(cluster.sealed, "sealed")).toEqual(podsIn(cluster.healthy, "active"));
    expect(podsIn(cluster.sealed, "active")).toHaveLength(1);
    expect(podsIn(cluster.leaderLost, "active")).toEqual([]);
    expect(podsIn(cluster.leaderLost, "unreachable")).toEqual(podsIn(cluster.sealed, "active"));
  });

  it("audit failure: Vault refused the request and counted it; the snapshot command's lines match the log-based metric's filter once per stored snapshot", () => {
    const counter = (r: typeof audit.before) => samplesOf(r, "vault_audit_log_request_failure")[0]?.value;
    expect(counter(audit.before)).toBe(0);
    expect(counter(audit.failing)).toBeGreaterThanOrEqual(1);
    expect(audit.refusedStatus).toBe(500);
    expect(cluster.snapshotRuns.stored.code).toBe(0);
    expect(cluster.snapshotRuns.failed.code).toBe(1);
    expect(recorded.snapshotLines).toEqual({ stored: 1, failed: 0 });
    // The log-based metric's filter matches the server's audit error lines while its device fails, and none before.
    expect(auditClauses).toEqual({ "@module": "audit", "@level": "error" });
    expect(matchingLines(audit.logLines.before, auditClauses)).toEqual([]);
    expect(recorded.auditErrorLines).toBeGreaterThanOrEqual(1);
  });
});

describe("promtool test rules on the synthesized rule file", () => {
  const groups = () =>
    testGroups(rules, recorded, {
      name: snapshotStoredPromQlName(ruleEnv.name),
      windowSec: params.snapshotMaxAgeSec,
      scheduleGapSec: longestCronGapSec(ruleEnv.snapshots.schedule),
    });

  it("every alert fires in its state when it should, and stays quiet before and in the healthy state", () => {
    const ruleFile = join(dir, `${ruleEnv.name}.rules.yaml`);
    writeFileSync(ruleFile, ruleText);
    const testFile = join(dir, "alerts.test.yaml");
    writeFileSync(testFile, promtoolTestFile(ruleFile, rules, groups()));
    const run = promtoolTestRules(testFile);
    if (run.status !== 0) throw new Error(`promtool test rules exited ${run.status}:\n${run.output}`);
    expect(run.output).toMatch(/SUCCESS/);
    // A rule file it cannot find is only a warning to promtool (then every firing case fails).
    expect(run.output).not.toMatch(/WARNING/);
  });

  it("has a firing and a quiet case for every rule the rule file holds", () => {
    expect(missingCases(rules, groups())).toEqual([]);
  });
});

describe("the metric names the alerts and the dashboard use", () => {
  /** Names no server here exports, and why. */
  const EXCEPTIONS: Record<string, string> = {
    [snapshotStoredPromQlName(ruleEnv.name)]:
      "Cloud Logging's log-based metric over the snapshot job's lines (its series comes from the real command's lines above)",
    [auditErrorsPromQlName(ruleEnv.name)]:
      "Cloud Logging's log-based metric over the servers' audit error lines (its series comes from the real server's lines above)",
    vault_audit_sink_failure: "HashiCorp Vault's per-sink failure counter: OpenBao, which these recordings run, has none",
  };

  it("each is in a recorded scrape, or is a documented exception", () => {
    const dashboard = JSON.parse(renderVaultDashboard({ environment: ruleEnv.name, cluster: where.cluster, namespace: where.namespace })) as {
      mosaicLayout: { tiles: { widget: { xyChart: { dataSets: { timeSeriesQuery: { prometheusQuery: string } }[] } } }[] };
    };
    const queries = [
      ...rules.map((r) => r.expr),
      ...dashboard.mosaicLayout.tiles.flatMap((t) => t.widget.xyChart.dataSets.map((d) => d.timeSeriesQuery.prometheusQuery)),
    ];
    const recordings = [
      ...cluster.stuck,
      cluster.healthy,
      cluster.diagnosis,
      cluster.finding,
      cluster.certificate,
      cluster.sealed,
      cluster.justSealed,
      cluster.leaderLost,
      audit.before,
      audit.failing,
    ];
    const seen = new Set(recordings.flatMap((r) => [...r.samples.map((s) => s.name), ...(r.declared ?? [])]));
    const missing = [...new Set(queries.flatMap(metricNames))].filter((n) => !seen.has(n) && !(n in EXCEPTIONS)).sort();
    expect(missing).toEqual([]);
  });
});
