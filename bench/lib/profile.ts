import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface HotSpot {
  /** Share of the profile's non-idle samples, 0..1. */
  share: number;
  fn: string;
  where: string;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

/** Self time by function over every .cpuprofile in `dir` (idle, GC and program kept apart). */
export function hotSpots(dir: string, top = 20): HotSpot[] {
  const totals = new Map<string, number>();
  let all = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
      nodes: ProfileNode[];
      samples: number[];
    };
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    for (const sample of profile.samples) {
      const frame = byId.get(sample)?.callFrame;
      if (!frame || frame.functionName === '(idle)') continue;
      const url = frame.url
        .replace(/^file:\/\//, '')
        .replace(/^.*\/(node_modules|packages|bench)\//, '$1/');
      const key = `${frame.functionName || '(anonymous)'}\t${url}${url ? `:${frame.lineNumber + 1}` : ''}`;
      totals.set(key, (totals.get(key) ?? 0) + 1);
      all++;
    }
  }
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([key, count]) => {
      const [fn = '', where = ''] = key.split('\t');
      return { share: count / all, fn, where };
    });
}
