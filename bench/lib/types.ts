import type { ClientSize } from './client-size.js';
import type { LoadResult } from './load.js';
import type { HotSpot } from './profile.js';

export type ContenderResult =
  | {
      id: string;
      label: string;
      group: 'bare' | 'latchkey' | 'peer';
      status: 'measured';
      /** Every timed run (bare node:http: two per round). */
      runs: { rps: number; p50: number; p99: number; non2xx: number; requests: number }[];
      /** Medians over the runs. Latencies in milliseconds. */
      rps: number;
      p50: number;
      p99: number;
      non2xx: number;
      /** Median over rounds of rps ÷ that round's bare node:http (mean of start and end). */
      ratioToBare: number;
      ratioRange: [number, number];
      peakRssBytes: number | null;
    }
  | {
      id: string;
      label: string;
      group: 'bare' | 'latchkey' | 'peer';
      status: 'skipped';
      reason: string;
    };

export interface RoundRecord {
  round: number;
  order: string[];
  bareStart: number;
  bareEnd: number;
  /** req/s per contender in this round; node-bare = mean of start and end. */
  rps: Record<string, number>;
}

export interface LoginResults {
  latency: LoadResult;
  throughput: LoadResult;
  throughputConnections: number;
  storm: {
    rate: number;
    probeConnections: number;
    loginConnections: number;
    pairs: { idle: LoadResult; during: LoadResult; logins: LoadResult }[];
    idleP99: number;
    duringP99: number;
    /** Median over pairs of p99 during ÷ p99 idle. */
    ratio: number;
  };
}

export interface LookupTiming {
  p50Us: number;
  p99Us: number;
  perSecond: number;
}

export type LookupBackend =
  | {
      sizes: {
        n: number;
        insertMs: number;
        getSession: LookupTiming;
        authenticate: LookupTiming;
      }[];
      samplesPerSize: number;
    }
  | { skipped: string };

export interface LookupResults {
  sqlite: LookupBackend;
  redis: LookupBackend;
}

export interface StartupVariant {
  id: string;
  label: string;
  command: string;
  /** From spawn to the app's "… on http://" line, one per timed start, in milliseconds. */
  listeningMs: number[];
  /** From spawn to the first 200 on GET /config.json. */
  firstOkMs: number[];
  medianListeningMs: number;
  medianFirstOkMs: number;
}

export type StartupResults = { runs: number; variants: StartupVariant[] } | { skipped: string };

export interface TargetResult {
  target: string;
  /** What was compared, in words and numbers. */
  measured: string;
  status: 'met' | 'missed' | 'not measured';
}

export interface BenchResults {
  generatedAt: string;
  mode: 'quick' | 'full';
  plan: unknown;
  durationSeconds: number;
  machine: {
    cpu: string;
    cores: number;
    memoryBytes: number;
    os: string;
    loadAverageAtStart: number[];
    loadAverageAtEnd: number[];
  };
  versions: Record<string, string>;
  contenders: ContenderResult[];
  rounds: RoundRecord[];
  login: LoginResults;
  lookup: LookupResults;
  clientSizes: ClientSize[];
  /** Absent in results written before start-up was measured. */
  startup?: StartupResults;
  targets: TargetResult[];
  profiles: Record<string, HotSpot[]>;
}
