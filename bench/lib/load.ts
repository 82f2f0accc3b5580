import { peer } from './peer.js';

export interface LoadOptions {
  url: string;
  /** Seconds. */
  duration: number;
  connections: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Requests per second across all connections; unset = as fast as the server answers. */
  overallRate?: number;
}

export interface LoadResult {
  /** 2xx responses per second over the run. */
  rps: number;
  requests: number;
  /** Milliseconds, from our own float-precision record of every 2xx response. */
  p50: number;
  p99: number;
  mean: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Seconds actually run. */
  duration: number;
  /** The first status codes that were not 2xx, for error messages. */
  statusCodes: Record<string, number>;
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

let autocannon: any;

/**
 * One autocannon run in this process. autocannon's own latency histogram counts whole
 * milliseconds, too coarse for sub-millisecond answers, so every 2xx response time is
 * recorded here from its 'response' event (hrtime, float ms) and the percentiles are ours.
 */
export async function load(options: LoadOptions): Promise<LoadResult> {
  autocannon ??= (await peer('autocannon')).default;
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  const result: any = await new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.duration,
        method: options.method ?? 'GET',
        headers: options.headers ?? {},
        ...(options.body === undefined ? {} : { body: options.body }),
        ...(options.overallRate === undefined ? {} : { overallRate: options.overallRate }),
        timeout: 10,
      },
      (error: unknown, res: unknown) => {
        if (error) reject(error instanceof Error ? error : new Error('autocannon failed'));
        else resolve(res);
      },
    );
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (status < 200 || status > 299) return;
      if (count === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[count++] = ms;
    });
  });
  const sorted = latencies.subarray(0, count).sort();
  let sum = 0;
  for (const value of sorted) sum += value;
  const statusCodes: Record<string, number> = {};
  for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) {
    statusCodes[code] = (stats as { count: number }).count;
  }
  return {
    rps: result['2xx'] / result.duration,
    requests: result['2xx'],
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean: count === 0 ? Number.NaN : sum / count,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    duration: result.duration,
    statusCodes,
  };
}
