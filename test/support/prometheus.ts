/** The Prometheus text format, read back: samples with their labels, and the declared metric names. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  samples: Sample[];
  /** Names from `# TYPE` lines: every metric the endpoint declares, with or without samples yet. */
  declared: Set<string>;
}

export function parseExposition(text: string): Exposition {
  const samples: Sample[] = [];
  const declared = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) \S+/.exec(line);
    if (type) declared.add(type[1]!);
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, '$1');
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { samples, declared };
}

/** Sum of the samples of `name` whose labels include `match`. */
export function total(e: Exposition, name: string, match: Record<string, string> = {}): number {
  return e.samples
    .filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
}

/** A metric name as Prometheus queries see it, without the series suffixes of histograms and summaries. */
export function familyOf(series: string): string {
  return series.replace(/_(bucket|sum|count)$/, '');
}

/** Metric names referenced by PromQL expressions (csp_… and temporal_…). */
export function metricNamesIn(expr: string): string[] {
  return [...expr.matchAll(/\b((?:csp|temporal)_[a-zA-Z0-9_]+)/g)].map((m) => m[1]!);
}
