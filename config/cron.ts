// The longest gap between two runs of a five-field cron schedule, found by
// walking every minute of a week: the snapshot job's staleness alert fires
// when the last good snapshot is older than twice this. Supports the forms a
// schedule uses (*, */n, a, a-b, a-b/n, lists); names of days and months are
// not supported (use numbers).
const FIELDS = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12 },
  { name: "day of week", min: 0, max: 7 },
] as const;

function values(expr: string, min: number, max: number, name: string): Set<number> {
  const out = new Set<number>();
  for (const part of expr.split(",")) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) throw new Error(`cron ${name} "${part}" is not a number, a range, * or a step (*/n)`);
    const from = m[1] === "*" ? min : Number(m[2]);
    const to = m[1] === "*" ? max : m[3] !== undefined ? Number(m[3]) : m[4] ? max : from;
    const step = m[4] ? Number(m[4]) : 1;
    if (from < min || to > max || from > to || step < 1) throw new Error(`cron ${name} "${part}" is outside ${min}-${max}`);
    for (let v = from; v <= to; v += step) out.add(name === "day of week" && v === 7 ? 0 : v);
  }
  return out;
}

/** Seconds of the longest interval between runs, over one week starting on a Monday in January (UTC). */
export function longestCronGapSec(schedule: string): number {
  const parts = schedule.trim().split(/\s+/);
  if (parts.length !== 5) throw new Error(`cron schedule "${schedule}" needs five fields`);
  const [minutes, hours, days, months, weekdays] = parts.map((p, i) => values(p, FIELDS[i].min, FIELDS[i].max, FIELDS[i].name));
  const dayRestricted = parts[2] !== "*";
  const weekdayRestricted = parts[4] !== "*";
  const runs: number[] = [];
  // Four weeks, so monthly days and week days both show; the gap wraps around the end.
  const start = Date.UTC(2029, 0, 1); // a Monday
  const span = 28 * 24 * 60;
  for (let i = 0; i < span; i++) {
    const t = new Date(start + i * 60_000);
    const day = days.has(t.getUTCDate());
    const weekday = weekdays.has(t.getUTCDay());
    // cron: when both day fields are restricted, either may match.
    const dayOk = dayRestricted && weekdayRestricted ? day || weekday : day && weekday;
    if (minutes.has(t.getUTCMinutes()) && hours.has(t.getUTCHours()) && months.has(t.getUTCMonth() + 1) && dayOk) runs.push(i);
  }
  if (runs.length === 0) throw new Error(`cron schedule "${schedule}" does not run within four weeks of January; use a more frequent schedule`);
  let gap = runs[0] + span - runs[runs.length - 1];
  for (let i = 1; i < runs.length; i++) gap = Math.max(gap, runs[i] - runs[i - 1]);
  return gap * 60;
}
