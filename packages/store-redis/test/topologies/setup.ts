import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, killChild, signalAll, spawnUntilReady } from '@latchkey/store-conformance';
import type { RedisNode } from '../../src/index.js';

/*
 * PRIVATE multi-node Redis setups for the Cluster and Sentinel tests: every process is
 * a redis-server started here on free ports with its files in a temp dir, addressed by
 * process id only (the shared Redis on 6379 is never touched), SIGKILLed by `stop()`
 * and, should the test process die first, by an exit hook.
 */

const run = promisify(execFile);
const HOST = '127.0.0.1';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Process ids still to kill if the test process exits without `stop()`. */
const live = new Set<number>();
let hooked = false;
function killOnExit(child: ChildProcess): void {
  if (child.pid !== undefined) live.add(child.pid);
  child.once('exit', () => {
    if (child.pid !== undefined) live.delete(child.pid);
  });
  if (hooked) return;
  hooked = true;
  process.once('exit', () => signalAll([...live], 'SIGKILL'));
}

/** A redis-server of a test setup. */
export interface RedisProcess extends RedisNode {
  child: ChildProcess | undefined;
}

async function spawnRedis(args: string[], ready: string): Promise<ChildProcess> {
  const child = await spawnUntilReady('redis-server', args, { ready, timeoutMs: 15_000 });
  killOnExit(child);
  return child;
}

/** Polls `check` (errors count as "not yet") until it returns true, or throws after `timeoutMs`. */
export async function until(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: Error | undefined;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error instanceof Error ? error : new Error(JSON.stringify(error));
    }
    await sleep(100);
  }
  throw new Error(
    `${what}: not within ${timeoutMs} ms${last ? ` (last error: ${last.message})` : ''}`,
  );
}

/** One command on a short-lived admin connection to `node` (not the store's). */
export async function admin<T>(node: RedisNode, command: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({
    host: node.host,
    port: node.port,
    lazyConnect: true,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    connectTimeout: 1000,
    commandTimeout: 2000,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await command(redis);
  } finally {
    redis.disconnect();
  }
}

/** INFO `section` of `node` as a field map. */
export async function info(node: RedisNode, section: string): Promise<Record<string, string>> {
  const text = await admin(node, (r) => r.info(section));
  return Object.fromEntries(
    text
      .split('\r\n')
      .filter((line) => line.includes(':'))
      .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)]),
  );
}

const common = (port: number, dir: string) => [
  '--port',
  String(port),
  '--bind',
  HOST,
  '--dir',
  dir,
  '--save',
  '',
  '--appendonly',
  'no',
];

export interface ClusterSetup {
  /** Every node (primaries first, as created). */
  readonly nodes: RedisProcess[];
  /** Seed nodes for the store: the primaries. */
  readonly seeds: RedisNode[];
  /** The node serving `slot` as primary now (CLUSTER SHARDS on a live node). */
  primaryOf(slot: number): Promise<RedisProcess>;
  /** SIGKILL one node; resolves once it is gone. */
  kill(node: RedisProcess): Promise<void>;
  /** Starts a killed node again (same port, same nodes.conf). */
  restart(node: RedisProcess): Promise<void>;
  /** Waits until every live node reports `cluster_state:ok` and sees every slot served. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A Redis Cluster of `primaries` primaries with one replica each, on free ports,
 * `cluster-node-timeout` 1000 ms (a dead primary is failed over about 1-2 s later).
 */
export async function startCluster(primaries = 3): Promise<ClusterSetup> {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-cluster-'));
  const nodes: RedisProcess[] = [];
  const argsOf = new Map<number, string[]>();
  const stop = async () => {
    await Promise.all(nodes.map((n) => killChild(n.child)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < primaries * 2; i++) {
      const port = await freePort();
      const busPort = await freePort();
      const args = [
        ...common(port, dir),
        '--cluster-enabled',
        'yes',
        '--cluster-port',
        String(busPort),
        '--cluster-config-file',
        join(dir, `nodes-${port}.conf`),
        '--cluster-node-timeout',
        '1000',
        // A replica may take over however long it was cut off: the test kills on purpose.
        '--cluster-replica-validity-factor',
        '0',
      ];
      argsOf.set(port, args);
      nodes.push({
        host: HOST,
        port,
        child: await spawnRedis(args, 'Ready to accept connections'),
      });
    }
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...nodes.map((n) => `${n.host}:${n.port}`),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
      ],
      { timeout: 30_000 },
    );
    const setup: ClusterSetup = {
      nodes,
      seeds: nodes.slice(0, primaries).map(({ host, port }) => ({ host, port })),
      async primaryOf(slot) {
        const liveNode = nodes.find((n) => n.child?.exitCode === null);
        if (!liveNode) throw new Error('no live node');
        const slots = (await admin(liveNode, (r) => r.call('CLUSTER', 'SLOTS'))) as [
          number,
          number,
          [string, number, ...unknown[]],
        ][];
        const range = slots.find(([from, to]) => slot >= from && slot <= to);
        const node = nodes.find((n) => n.port === range?.[2][1]);
        if (!node) throw new Error(`no primary serves slot ${slot}`);
        return node;
      },
      async kill(node) {
        await killChild(node.child);
        node.child = undefined;
      },
      async restart(node) {
        // Same port and nodes.conf: it rejoins, as a replica once its slots moved on.
        node.child = await spawnRedis(argsOf.get(node.port) ?? [], 'Ready to accept connections');
      },
      async settled() {
        const up = nodes.filter((n) => n.child !== undefined);
        await until('cluster state ok on every node', async () => {
          for (const node of up) {
            const text = await admin(node, (r) => r.call('CLUSTER', 'INFO') as Promise<string>);
            if (!text.includes('cluster_state:ok') || !text.includes('cluster_slots_ok:16384')) {
              return false;
            }
          }
          // Every replica has finished its first sync.
          for (const node of up) {
            const replication = await info(node, 'replication');
            if (replication.role === 'slave' && replication.master_link_status !== 'up') {
              return false;
            }
          }
          return true;
        });
      },
      stop,
    };
    await setup.settled();
    return setup;
  } catch (error) {
    await stop();
    throw error;
  }
}

export interface SentinelSetup {
  /** The primary's name in the sentinels' configuration. */
  readonly name: string;
  /** The data nodes: the primary at start, then the replica. */
  readonly nodes: RedisProcess[];
  readonly sentinels: RedisProcess[];
  /** The node the sentinels call primary now. */
  primary(): Promise<RedisProcess>;
  /** SIGKILL one node; resolves once it is gone. */
  kill(node: RedisProcess): Promise<void>;
  /**
   * Starts a killed data node again, empty, as a replica of the primary now; resolves
   * once it is in sync and every sentinel counts it as a replica.
   */
  restart(node: RedisProcess): Promise<void>;
  stop(): Promise<void>;
}

/** Field-value pairs (SENTINEL MASTER's reply) as a map. */
const pairs = (flat: unknown): Record<string, string> => {
  const list = flat as string[];
  const map: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) map[list[i] as string] = list[i + 1] as string;
  return map;
};

/**
 * One primary, one replica and three sentinels (quorum 2, down-after 1000 ms), on
 * free ports. Resolves once the replica is in sync and every sentinel knows the
 * replica and the other two sentinels, so a failover can happen.
 */
export async function startSentinel(name = 'latchkey'): Promise<SentinelSetup> {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-sentinel-'));
  const nodes: RedisProcess[] = [];
  const sentinels: RedisProcess[] = [];
  const stop = async () => {
    await Promise.all([...nodes, ...sentinels].map((n) => killChild(n.child)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const primaryPort = await freePort();
    nodes.push({
      host: HOST,
      port: primaryPort,
      child: await spawnRedis(common(primaryPort, dir), 'Ready to accept connections'),
    });
    const replicaPort = await freePort();
    nodes.push({
      host: HOST,
      port: replicaPort,
      child: await spawnRedis(
        [...common(replicaPort, dir), '--replicaof', HOST, String(primaryPort)],
        'Ready to accept connections',
      ),
    });
    await until('the replica in sync', async () => {
      return (await info(nodes[1] as RedisNode, 'replication')).master_link_status === 'up';
    });
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const conf = join(dir, `sentinel-${port}.conf`);
      writeFileSync(
        conf,
        [
          `port ${port}`,
          `bind ${HOST}`,
          `dir ${dir}`,
          `sentinel monitor ${name} ${HOST} ${primaryPort} 2`,
          `sentinel down-after-milliseconds ${name} 1000`,
          `sentinel failover-timeout ${name} 5000`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      );
      sentinels.push({
        host: HOST,
        port,
        child: await spawnRedis([conf, '--sentinel'], '+monitor master'),
      });
    }
    await until('every sentinel knows the replica and the other sentinels', async () => {
      for (const sentinel of sentinels) {
        const master = pairs(await admin(sentinel, (r) => r.call('SENTINEL', 'MASTER', name)));
        if (master['num-slaves'] !== '1' || master['num-other-sentinels'] !== '2') return false;
      }
      return true;
    });
    const primary = async (): Promise<RedisProcess> => {
      const liveSentinel = sentinels.find((s) => s.child !== undefined) as RedisNode;
      const [, port] = (await admin(liveSentinel, (r) =>
        r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name),
      )) as [string, string];
      const node = nodes.find((n) => n.port === Number(port));
      if (!node) throw new Error(`the sentinels name an unknown primary :${port}`);
      return node;
    };
    return {
      name,
      nodes,
      sentinels,
      primary,
      async kill(node) {
        await killChild(node.child);
        node.child = undefined;
      },
      async restart(node) {
        const now = await primary();
        node.child = await spawnRedis(
          [...common(node.port, dir), '--replicaof', now.host, String(now.port)],
          'Ready to accept connections',
        );
        await until('the restarted node in sync', async () => {
          const replication = await info(node, 'replication');
          if (replication.master_link_status === 'up') return true;
          // The sentinels may have moved the primary since it was read (a failover
          // finishing late on a loaded machine): follow the one they name now.
          const current = await primary();
          if (current !== node && replication.master_port !== String(current.port)) {
            await admin(node, (r) => r.call('REPLICAOF', current.host, String(current.port)));
          }
          return false;
        });
        await until('every sentinel counts the restarted replica', async () => {
          for (const sentinel of sentinels) {
            const replicas = (await admin(sentinel, (r) =>
              r.call('SENTINEL', 'REPLICAS', name),
            )) as unknown[];
            const healthy = replicas
              .map(pairs)
              .filter((r) => !/s_down|disconnected/.test(r.flags ?? ''));
            if (!healthy.some((r) => r.port === String(node.port))) return false;
          }
          return true;
        });
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
