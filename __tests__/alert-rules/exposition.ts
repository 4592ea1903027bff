// The Prometheus text exposition format, read the way a scraper reads it: one
// sample per line (`name{label="value",...} value [timestamp]`), HELP and TYPE
// comments skipped. Then the labels a scrape by Google Managed Service for
// Prometheus adds to every sample it collects.

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  readonly name: string;
  readonly labels: Labels;
  readonly value: number;
}

const NAME = /^[A-Za-z_:][A-Za-z0-9_:]*/;

function parseValue(text: string): number {
  if (text === "+Inf" || text === "Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  const n = Number(text);
  if (text === "" || Number.isNaN(n)) throw new Error(`not a sample value: ${JSON.stringify(text)}`);
  return n;
}

/** Reads `{a="1",b="x\"y"}` from `line` at `at` (the opening brace); returns the labels and where they end. */
function parseLabels(line: string, at: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = at + 1;
  for (;;) {
    while (line[i] === " " || line[i] === ",") i++;
    if (line[i] === "}") return { labels, end: i + 1 };
    const name = NAME.exec(line.slice(i))?.[0];
    if (!name || line[i + name.length] !== "=" || line[i + name.length + 1] !== '"') throw new Error(`bad label at ${i}: ${line}`);
    i += name.length + 2;
    let value = "";
    for (; line[i] !== '"'; i++) {
      if (i >= line.length) throw new Error(`unterminated label value: ${line}`);
      if (line[i] === "\\") {
        i++;
        value += line[i] === "n" ? "\n" : line[i];
      } else value += line[i];
    }
    labels[name] = value;
    i++;
  }
}

/** Every sample of a scrape's body, in order. */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const name = NAME.exec(line)?.[0];
    if (!name) throw new Error(`not a sample line: ${line}`);
    let rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith("{")) {
      const parsed = parseLabels(rest, 0);
      labels = parsed.labels;
      rest = rest.slice(parsed.end);
    }
    const [value] = rest.trim().split(/\s+/); // a trailing timestamp, if any, is the scrape's own time here
    samples.push({ name, labels, value: parseValue(value) });
  }
  return samples;
}

/**
 * The series names a scrape's TYPE comments declare, with the `_count` and `_sum` (and `_bucket`) series of a
 * summary or histogram: a family can be declared before it has a sample (a labelled counter before its first
 * increment).
 */
export function declaredNames(text: string): string[] {
  return text.split("\n").flatMap((line) => {
    const m = /^# TYPE ([A-Za-z_:][A-Za-z0-9_:]*) (\w+)/.exec(line.trim());
    if (!m) return [];
    const [, name, type] = m;
    if (type === "summary") return [name, `${name}_count`, `${name}_sum`];
    if (type === "histogram") return [name, `${name}_count`, `${name}_sum`, `${name}_bucket`];
    return [name];
  });
}

/** Where Managed Prometheus found a target: the labels it puts on every sample from it. */
export interface ScrapeTarget {
  readonly cluster: string;
  readonly namespace: string;
  readonly pod: string;
}

/**
 * The samples as Managed Prometheus stores them: its target labels `cluster`, `namespace` and `pod` on every
 * sample (the rules select on the first two). A label the exporter sets itself under one of those names is kept as
 * `exported_<name>`, as Prometheus does without honor_labels: Vault's usage gauges (vault_token_count) carry
 * their own `cluster` (Vault's cluster name) and `namespace` (a Vault namespace).
 */
export function asCollected(samples: readonly Sample[], target: ScrapeTarget): Sample[] {
  const added: Labels = { cluster: target.cluster, namespace: target.namespace, pod: target.pod };
  return samples.map((s) => {
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(s.labels)) labels[k in added ? `exported_${k}` : k] = v;
    return { ...s, labels: { ...labels, ...added } };
  });
}

/** `name{a="1",b="2"}` with the labels sorted: a series' identity, and promtool's series notation. */
export function seriesKey(name: string, labels: Labels): string {
  const body = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k].replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n")}"`)
    .join(",");
  return `${name}{${body}}`;
}
