// Recorded scrapes rewritten onto promtool's time axis: one sample per minute
// from t = 0 (the Unix epoch, which is what time() returns there). A test group
// is a row of phases; each phase repeats one recorded moment for some minutes.
// The values are the recorded ones, with one rewrite: a Unix timestamp
// (…_timestamp_seconds) keeps its distance from the scrape's wall clock, so a
// heartbeat recorded 0.4 s before its scrape stays 0.4 s behind time() on the
// axis while the loop turns; a timestamp whose producer has stopped is held at
// its value at the phase's start and falls behind as the axis advances.
import { seriesKey, type Labels, type Sample } from "./exposition";

/** Every target scraped at one moment, as Managed Prometheus stores the samples. */
export interface Recording {
  readonly state: string;
  /** The wall clock when the scrape was taken, in Unix seconds. */
  readonly atSec: number;
  readonly samples: readonly Sample[];
  /** The series names the scrapes declared (TYPE comments), with or without samples. @default none */
  readonly declared?: readonly string[];
}

export interface Phase {
  readonly recording: Recording;
  readonly minutes: number;
  /** Timestamps that stop advancing during this phase (their producer does not run). @default none */
  readonly frozen?: (sample: Sample) => boolean;
  /** Keeps only the samples this returns true for (a phase that models a missing series). @default all */
  readonly keep?: (sample: Sample) => boolean;
}

export const STEP_SEC = 60;
const TIMESTAMP = /_timestamp_seconds$/;

type Value = number | "stale" | undefined;

/** What the axis holds for one series: its value at each minute, undefined where it has no sample. */
interface AxisSeries {
  readonly name: string;
  readonly labels: Labels;
  readonly values: Value[];
}

/** The value a recorded sample has at axis time `t` (seconds), given when the phase started. */
export function valueAt(sample: Sample, recording: Recording, frozen: boolean, t: number, phaseStart: number): number {
  if (!TIMESTAMP.test(sample.name)) return sample.value;
  const offset = Math.round((sample.value - recording.atSec) * 1000) / 1000; // negative: in the past; positive: an expiry
  return (frozen ? phaseStart : t) + offset;
}

/** The series of a row of phases, minute by minute; only the metric names `names` holds (all when omitted). */
export function layOut(phases: readonly Phase[], names?: ReadonlySet<string>): AxisSeries[] {
  const total = phases.reduce((n, p) => n + p.minutes, 0);
  const series = new Map<string, AxisSeries>();
  let minute = 0;
  for (const phase of phases) {
    const start = minute * STEP_SEC;
    const here = new Set<string>();
    for (const sample of phase.recording.samples) {
      if (names && !names.has(sample.name)) continue;
      if (phase.keep && !phase.keep(sample)) continue;
      const key = seriesKey(sample.name, sample.labels);
      here.add(key);
      let s = series.get(key);
      if (!s) {
        s = { name: sample.name, labels: sample.labels, values: new Array<Value>(total).fill(undefined) };
        series.set(key, s);
      }
      const frozen = phase.frozen?.(sample) ?? false;
      for (let m = minute; m < minute + phase.minutes; m++) s.values[m] = valueAt(sample, phase.recording, frozen, m * STEP_SEC, start);
    }
    for (const [key, s] of series) if (minute > 0 && !here.has(key) && typeof s.values[minute - 1] === "number") s.values[minute] = "stale";
    minute += phase.minutes;
  }
  return [...series.values()].sort((a, b) => seriesKey(a.name, a.labels).localeCompare(seriesKey(b.name, b.labels)));
}

const num = (v: number) => (Number.isNaN(v) ? "NaN" : v === Infinity ? "Inf" : v === -Infinity ? "-Inf" : String(Math.round(v * 1000) / 1000));

/**
 * promtool's series notation for one series' values, run-length encoded: `a+bxn` is a, a+b, …, a+n·b (n + 1
 * samples), `_xn` is n missing samples, `stale` a staleness marker.
 */
export function promtoolValues(values: readonly Value[]): string {
  const out: string[] = [];
  let i = 0;
  while (i < values.length) {
    const v = values[i];
    if (v === "stale") {
      out.push("stale");
      i++;
      continue;
    }
    if (v === undefined) {
      let n = 1;
      while (values[i + n] === undefined && i + n < values.length) n++;
      out.push(n === 1 ? "_" : `_x${n}`);
      i += n;
      continue;
    }
    const next = values[i + 1];
    const step = typeof next !== "number" || !Number.isFinite(v) ? 0 : Math.round((next - v) * 1000) / 1000;
    let n = 0;
    for (;;) {
      const w = values[i + n + 1];
      if (typeof w !== "number" || !Number.isFinite(v) || Math.abs(w - (v + (n + 1) * step)) > 1e-3) break;
      n++;
    }
    if (!Number.isFinite(v)) {
      while (i + n + 1 < values.length && Object.is(values[i + n + 1], v)) n++;
    }
    out.push(n === 0 ? num(v) : step === 0 ? `${num(v)}x${n}` : `${num(v)}${step < 0 ? "-" : "+"}${num(Math.abs(step))}x${n}`);
    i += n + 1;
  }
  return out.join(" ");
}

/** promtool's input_series for rows of phases laid out side by side (each row from minute 0). */
export function inputSeries(rows: readonly (readonly Phase[])[], names?: ReadonlySet<string>): { series: string; values: string }[] {
  return rows.flatMap((row) => layOut(row, names)).map((s) => ({ series: seriesKey(s.name, s.labels), values: promtoolValues(s.values) }));
}
