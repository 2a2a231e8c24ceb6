// Summaries of latency samples. Percentiles are nearest-rank: with fewer than
// 100 samples p99 is the largest one, which the tables say.

export type Summary = { n: number; p50: number; p99: number; min: number; max: number };

/** Nearest-rank percentile (p in 0..100) of the samples; NaN when there are none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

export const median = (samples: readonly number[]): number => percentile(samples, 50);

export function summarize(samples: readonly number[]): Summary {
  return {
    n: samples.length,
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    min: samples.length ? Math.min(...samples) : Number.NaN,
    max: samples.length ? Math.max(...samples) : Number.NaN,
  };
}

/** Milliseconds for a table cell: one decimal below 10 ms, whole numbers above. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value < 10 ? value.toFixed(1) : String(Math.round(value));
}

/** A ratio such as `3.2×`. */
export function ratio(value: number, base: number): string {
  if (!Number.isFinite(value) || !Number.isFinite(base) || base === 0) return 'n/a';
  return `${(value / base).toFixed(1)}×`;
}

export const mb = (kilobytes: number): string => (Number.isFinite(kilobytes) ? (kilobytes / 1024).toFixed(1) : 'n/a');

export const met = (ok: boolean): string => (ok ? 'met' : '**missed**');
