// A program's JSON log lines, and the ones a Cloud Logging log-based metric
// would count: the `jsonPayload` clauses of its filter, applied to each line.
// The filter's resource clauses (which container a line comes from) are about
// where a line is written, which a line printed on loopback cannot show.

/** The JSON objects among the lines of `text` (other lines are skipped). */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

/** The `jsonPayload.<field>="<value>"` clauses of a Cloud Logging filter: what a line must carry to be counted. */
export function payloadClauses(filter: string): Record<string, string> {
  // A field is written bare (jsonPayload.msg) or quoted when it has other characters (jsonPayload."@module").
  return Object.fromEntries([...filter.matchAll(/jsonPayload\.(?:"([^"]+)"|([A-Za-z_]+))="([^"]*)"/g)].map((m) => [m[1] ?? m[2], m[3]]));
}

/** The lines that carry every clause. */
export function matchingLines(lines: readonly Record<string, unknown>[], clauses: Record<string, string>): Record<string, unknown>[] {
  return lines.filter((line) => Object.entries(clauses).every(([field, value]) => line[field] === value));
}
