// The promtool test groups: for every alert, the recorded state it is about
// laid out on the axis after a healthy stretch, with the minute it must start
// firing and the minute before, when it must still be quiet; and a long
// healthy group where every alert stays quiet. The expected labels and
// minutes come from the recordings (which pod was sealed, which diagnosis
// code, when a held timestamp crosses its threshold).
import type { Labels, Sample } from "./exposition";
import type { AlertCase, RuleFileRule, TestGroup } from "./promtool";
import { podsIn, samplesOf } from "./recorder";
import { STEP_SEC, valueAt, type Phase, type Recording } from "./timeline";

export const HEARTBEAT = "vault_gke_sidecar_heartbeat_timestamp_seconds";

/** What the integration test recorded from the real servers, one scrape of every target per state. */
export interface Recorded {
  readonly healthy: Recording;
  /** While one sidecar's loop was held (its /metrics still answering). */
  readonly stuck: Recording;
  readonly stuckPod: string;
  readonly diagnosis: Recording;
  readonly finding: Recording;
  /** Every server presenting a certificate that expires in 10 days (300 in the other states). */
  readonly certificate: Recording;
  /** The active server sealed through the API; another took over. */
  readonly sealed: Recording;
  /** Then the new active's process killed: no server can become active. */
  readonly leaderLost: Recording;
  /** Vault's telemetry before and after requests its audit device failed to log. */
  readonly auditBefore: Recording;
  readonly auditFailing: Recording;
  /** How many lines of one successful and of one failed snapshot run the log-based metric's filter counts. */
  readonly snapshotLines: { readonly stored: number; readonly failed: number };
  /** How many of the audit server's log lines, while its device failed, the audit errors metric's filter counts. */
  readonly auditErrorLines: number;
}

/** The log-based metric the snapshot alert reads (its PromQL name) and the schedule it follows. */
export interface SnapshotMetric {
  readonly name: string;
  /** The alert's window: twice the schedule's longest gap. */
  readonly windowSec: number;
  readonly scheduleGapSec: number;
}

export const CERTIFICATE = "vault_gke_sidecar_certificate_expiry_timestamp_seconds";

/**
 * A sidecar renews its tokens, converges and runs the verifier only while its own vault is active. Once its
 * vault answers as anything else (standby, sealed) it drops the tokens' expiry and the findings
 * (status.ts notActive), so those are simply absent from its scrape; what it still exports (the last
 * converge and verifier run, and everything while its vault is unreachable) keeps its last value: held.
 * The heartbeat advances wherever the loop turns. A certificate's expiry is a date: it holds everywhere.
 */
function holdsWhereNotActive(recording: Recording): (s: Sample) => boolean {
  const active = new Set(podsIn(recording, "active"));
  return (s) => s.name === CERTIFICATE || (s.name.endsWith("_timestamp_seconds") && s.name !== HEARTBEAT && !active.has(s.labels.pod));
}

function phase(recording: Recording, minutes: number, alsoHeld: (s: Sample) => boolean = () => false): Phase {
  const held = holdsWhereNotActive(recording);
  return { recording, minutes, frozen: (s) => held(s) || alsoHeld(s) };
}

/** A held timestamp's value on the axis, for a phase starting at `onset` minutes. */
function heldAt(recording: Recording, sample: Sample, onset: number): number {
  return valueAt(sample, recording, true, 0, onset * STEP_SEC);
}

function firstMinute(from: number, to: number, what: string, holds: (tSec: number) => boolean): number {
  for (let m = from; m <= to; m++) if (holds(m * STEP_SEC)) return m;
  throw new Error(`${what} never holds between minute ${from} and ${to}: the recording cannot show this alert firing`);
}

/**
 * The log-based metric as a counter of the `snapshot stored` lines its filter matched, one sample per minute
 * from 0 (a minute before the first scheduled run). Cloud Logging produces it from the job's log lines; nothing
 * here can, so its values are the counts of the real command's lines (Recorded.snapshotLines) at the schedule's
 * run times. Its labels play no part (the rule sums them away).
 */
function snapshotRow(metric: SnapshotMetric, minutes: number, runs: readonly number[]): Phase[] {
  const gap = metric.scheduleGapSec / STEP_SEC;
  const counts = [0];
  for (const lines of runs) counts.push(counts[counts.length - 1] + lines);
  return counts
    .map((value, i) => {
      const from = i === 0 ? 0 : 1 + (i - 1) * gap;
      const to = i === counts.length - 1 ? minutes : 1 + i * gap;
      const recording: Recording = { state: "log-based metric", atSec: 0, samples: [{ name: metric.name, labels: {}, value }] };
      return { recording, minutes: Math.max(0, Math.min(to, minutes) - from) };
    })
    .filter((p) => p.minutes > 0);
}

/** Every scheduled run stores a snapshot. */
function freshSnapshots(metric: SnapshotMetric, minutes: number, r: Recorded): Phase[] {
  const runs = Math.ceil(minutes / (metric.scheduleGapSec / STEP_SEC));
  return snapshotRow(metric, minutes, new Array<number>(runs).fill(r.snapshotLines.stored));
}

const forMinutes = (rule: RuleFileRule) => Number(/^(\d+)s$/.exec(rule.for)?.[1] ?? NaN) / 60;
const quiet = (alertname: string, minute: number): AlertCase => ({ alertname, minute, fires: [] });

/** Fires `for` after `onset` (its condition holds from the onset's first evaluation), quiet a minute before. */
function afterFor(rule: RuleFileRule, onset: number, fires: readonly Labels[]): AlertCase[] {
  const at = onset + forMinutes(rule);
  return [quiet(rule.alert, at - 1), { alertname: rule.alert, minute: at, fires }];
}

export function testGroups(rules: readonly RuleFileRule[], r: Recorded, snapshot: SnapshotMetric): TestGroup[] {
  const rule = (name: string) => {
    const found = rules.find((x) => x.alert === name);
    if (!found) throw new Error(`the rule file holds no ${name}`);
    return found;
  };
  const onset = 10; // minutes of the healthy state before the state under test
  const healthyMinutes = 25 * 60; // beyond the snapshot alert's 12 h window, with several scheduled runs
  const groups: TestGroup[] = [];

  groups.push({
    name: "healthy: three servers (one active), converged sidecars, verifier without findings, snapshots on schedule",
    rows: [[phase(r.healthy, healthyMinutes)], freshSnapshots(snapshot, healthyMinutes, r)],
    cases: rules.flatMap((x) => [quiet(x.alert, onset + 1), quiet(x.alert, 24 * 60)]),
  });

  const sealedPods = podsIn(r.sealed, "sealed");
  groups.push({
    name: `sealed: ${sealedPods.join(", ")} sealed through the API, another server active`,
    rows: [[phase(r.healthy, onset), phase(r.sealed, 20)], freshSnapshots(snapshot, onset + 20, r)],
    cases: [
      ...afterFor(
        rule("VaultSealed"),
        onset,
        sealedPods.map((pod) => ({ pod })),
      ),
      ...afterFor(rule("VaultRaftBelowQuorumPlusOne"), onset, [{}]),
      quiet("VaultNoActiveNode", onset + 19),
    ],
  });

  // The leader lost: the sealed state for five minutes, then the new active's process killed.
  const lost = onset + 5;
  const lostMinutes = 75;
  const held = (name: string, token?: string) =>
    samplesOf(r.leaderLost, name)
      .filter((s) => token === undefined || s.labels.token === token)
      .map((s) => heldAt(r.leaderLost, s, lost));
  const lastVerified = Math.max(...held("vault_gke_verifier_last_run_timestamp_seconds"));
  const planExpiry = Math.min(...held("vault_gke_sidecar_token_expiry_timestamp_seconds", "plan"));
  const end = lost + lostMinutes;
  const stale = firstMinute(lost, end, "the verifier's last run older than 15 minutes", (t) => t - lastVerified > 900);
  const expiring = firstMinute(lost, end, "the plan token within 10 minutes of expiry", (t) => planExpiry - t < 600);
  groups.push({
    name: "leader lost: the active's process killed while another server is sealed; no server can become active",
    rows: [[phase(r.healthy, onset), phase(r.sealed, 5), phase(r.leaderLost, lostMinutes)], freshSnapshots(snapshot, end, r)],
    cases: [
      ...afterFor(rule("VaultNoActiveNode"), lost, [{}]),
      quiet("VaultVerifierStale", stale - 1),
      { alertname: "VaultVerifierStale", minute: stale, fires: [{}] },
      quiet("VaultPlanTokenExpiring", expiring - 1),
      { alertname: "VaultPlanTokenExpiring", minute: expiring, fires: [{}] },
    ],
  });

  const heartbeat = samplesOf(r.stuck, HEARTBEAT, r.stuckPod)[0];
  const stuckFrom = heldAt(r.stuck, heartbeat, onset);
  const stuck = firstMinute(onset, onset + 20, "the stuck loop's heartbeat older than 5 minutes", (t) => t - stuckFrom > 300);
  groups.push({
    name: `stuck loop: ${r.stuckPod}'s sidecar held inside a step (its /metrics answering, its heartbeat not advancing)`,
    rows: [[phase(r.healthy, onset), phase(r.stuck, 20, (s) => s.name === HEARTBEAT && s.labels.pod === r.stuckPod)], freshSnapshots(snapshot, onset + 20, r)],
    cases: [quiet("VaultSidecarLoopStuck", stuck - 1), { alertname: "VaultSidecarLoopStuck", minute: stuck, fires: [{ pod: r.stuckPod }] }],
  });

  const diagnoses = samplesOf(r.diagnosis, "vault_gke_sidecar_diagnosis").filter((s) => s.value > 0);
  groups.push({
    name: `sidecar diagnosis: ${diagnoses.map((s) => `${s.labels.pod} ${s.labels.code}`).join(", ")}`,
    rows: [[phase(r.healthy, onset), phase(r.diagnosis, 10)], freshSnapshots(snapshot, onset + 10, r)],
    cases: afterFor(
      rule("VaultSidecarDiagnosis"),
      onset,
      diagnoses.map((s) => ({ pod: s.labels.pod, code: s.labels.code })),
    ),
  });

  const kinds = [...new Set(samplesOf(r.finding, "vault_gke_verifier_findings").flatMap((s) => (s.value > 0 ? [s.labels.kind] : [])))].sort();
  groups.push({
    name: `verifier findings: ${kinds.join(", ")}`,
    rows: [[phase(r.healthy, onset), phase(r.finding, 5)], freshSnapshots(snapshot, onset + 5, r)],
    cases: afterFor(
      rule("VaultVerifierFindings"),
      onset,
      kinds.map((kind) => ({ kind })),
    ),
  });

  const certificates = samplesOf(r.certificate, CERTIFICATE)
    .filter((s) => s.value - r.certificate.atSec < 14 * 86_400)
    .map((s) => ({ pod: s.labels.pod, certificate: s.labels.certificate }));
  groups.push({
    name: `certificate expiring: every server presents one that expires in 10 days (${certificates.length} series)`,
    rows: [[phase(r.healthy, onset), phase(r.certificate, 5)], freshSnapshots(snapshot, onset + 5, r)],
    cases: afterFor(rule("VaultCertificateExpiring"), onset, certificates),
  });

  groups.push({
    name: "audit device failures: requests Vault refused because no audit device could log them",
    rows: [[phase(r.auditBefore, onset), phase(r.auditFailing, 10)], freshSnapshots(snapshot, onset + 10, r)],
    cases: [
      ...afterFor(rule("VaultAuditDeviceFailures"), onset, [{}]),
      // Its window is 5 minutes: without a new failure the counter's step leaves it and the alert resolves.
      quiet("VaultAuditDeviceFailures", onset + 4),
    ],
  });

  // The audit errors log-based metric: a counter of the server's matching lines (Cloud Logging makes it from
  // them; nothing here can), 0 while the device works, then the failing phase's count.
  const auditErrors = rule("VaultAuditDeviceErrors");
  const auditMetric = /logging_googleapis_com:user_[A-Za-z0-9_]+/.exec(auditErrors.expr)?.[0];
  if (!auditMetric) throw new Error(`no log-based metric in ${auditErrors.expr}`);
  const logCounter = (value: number): Recording => ({ state: "log-based metric", atSec: 0, samples: [{ name: auditMetric, labels: {}, value }] });
  groups.push({
    name: `audit device errors: the server logged ${r.auditErrorLines} audit error lines while its file device failed`,
    rows: [
      [phase(r.auditBefore, onset + 20)],
      [
        { recording: logCounter(0), minutes: onset },
        { recording: logCounter(r.auditErrorLines), minutes: 20 },
      ],
      freshSnapshots(snapshot, onset + 20, r),
    ],
    cases: [
      ...afterFor(auditErrors, onset, [{}]),
      // Its window is 10 minutes: with no new error line it resolves.
      quiet("VaultAuditDeviceErrors", onset + 12),
    ],
  });

  // Snapshots stored on schedule twice, then every run fails (its lines are not `snapshot stored`): the alert
  // fires once the last stored run's increase has left the window, i.e. the sample before it has.
  const gap = snapshot.scheduleGapSec / STEP_SEC;
  const window = snapshot.windowSec / STEP_SEC;
  const runs = [r.snapshotLines.stored, r.snapshotLines.stored, r.snapshotLines.failed, r.snapshotLines.failed, r.snapshotLines.failed];
  const lastStored = 1 + gap; // the minute of the second run
  const staleAt = lastStored - 1 + window;
  groups.push({
    name: "stale snapshot: two scheduled runs store a snapshot, every later run fails",
    rows: [[phase(r.healthy, staleAt + 10)], snapshotRow(snapshot, staleAt + 10, runs)],
    cases: [quiet("VaultSnapshotStale", staleAt - 1), { alertname: "VaultSnapshotStale", minute: staleAt, fires: [{}] }],
  });
  groups.push({
    name: "no snapshot ever stored: the log-based metric has no data",
    rows: [[phase(r.healthy, 5)]],
    cases: [{ alertname: "VaultSnapshotStale", minute: 1, fires: [{}] }],
  });

  const noActive = rule("VaultNoActiveNode");
  const sel = Object.fromEntries([...noActive.expr.matchAll(/(cluster|namespace)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
  // absent_over_time() over 15 minutes: the last sample is at onset - 1, so the window is empty from onset + 14.
  const silent = onset + 14;
  groups.push({
    name: "no sidecar series at all: every sidecar's scrape fails",
    rows: [
      [phase(r.healthy, onset), { recording: r.healthy, minutes: 20, keep: (s) => !s.name.startsWith("vault_gke_") }],
      freshSnapshots(snapshot, onset + 20, r),
    ],
    // absent() yields the selector's equality matchers as the alert's labels.
    cases: [
      ...afterFor(noActive, onset, [{ ...sel, state: "active" }]),
      quiet("VaultVerifierStale", silent - 1),
      { alertname: "VaultVerifierStale", minute: silent, fires: [sel] },
      quiet("VaultPlanTokenExpiring", silent - 1),
      { alertname: "VaultPlanTokenExpiring", minute: silent, fires: [{ ...sel, token: "plan" }] },
    ],
  });
  return groups;
}
