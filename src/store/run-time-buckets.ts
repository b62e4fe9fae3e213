/**
 * Run times kept as buckets (the rollup of ended tasks, migration 027), and percentiles read back
 * from them. Eight buckets per doubling (each about 9 % wider than the one before, as Prometheus's
 * native histograms at schema 3), from 1 ms up: a type's runs from 1 ms to a day fit in 200
 * buckets. A percentile is the middle of the bucket it falls in, so it is within 5 % of the exact
 * figure (runs under 1 ms count as 1 ms).
 */

const PER_DOUBLING = 8;

/** The bucket of a completed run's run time, in SQL (`run_ms` of ph_tasks `t`). */
export const RUN_BUCKET_SQL = `floor(${PER_DOUBLING} * ln(greatest(t.run_ms, 1)::float8) / ln(2::float8))::int`;

/** The same bucket in JavaScript. */
export function runBucket(runMs: number): number {
  return Math.floor(PER_DOUBLING * Math.log2(Math.max(runMs, 1)));
}

/** The middle of a bucket (geometric: the bucket is a ratio wide), in whole milliseconds. */
export function bucketMiddleMs(bucket: number): number {
  return Math.round(2 ** ((bucket + 0.5) / PER_DOUBLING));
}

/**
 * The `p`-th percentile (0 < p ≤ 1, nearest rank) of the run times counted in `buckets` (bucket →
 * count); null when there are none.
 */
export function percentileMs(buckets: ReadonlyMap<number, number>, p: number): number | null {
  const runs = [...buckets].filter(([, count]) => count > 0).sort((a, b) => a[0] - b[0]);
  const total = runs.reduce((sum, [, count]) => sum + count, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (const [bucket, count] of runs) {
    seen += count;
    if (seen >= rank) return bucketMiddleMs(bucket);
  }
  return bucketMiddleMs(runs[runs.length - 1]![0]);
}

/** Run-time buckets are counted per block of this many minutes (a finer grain multiplies the rows). */
export const RUN_BLOCK_MINUTES = 10;

/** The start of the block a time falls in, in SQL. */
export const runBlockSql = (time: string) => `to_timestamp(floor(extract(epoch FROM ${time}) / ${RUN_BLOCK_MINUTES * 60}) * ${RUN_BLOCK_MINUTES * 60})`;
