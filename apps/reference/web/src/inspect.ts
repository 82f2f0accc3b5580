/**
 * Reads everything a script on this page can read from browser storage: the same
 * access an injected script (XSS) would have. Used by the Security view.
 */

export interface StoreDump {
  name: string;
  records: { key: unknown; value: unknown }[];
}

export interface DatabaseDump {
  name: string;
  version: number;
  stores: StoreDump[];
}

/** One Cache Storage cache: the requests it holds, with each answer's status and type. */
export interface CacheDump {
  name: string;
  entries: { url: string; status: number; type: string | null }[];
}

export interface Snapshot {
  cookie: string;
  /** Every key and value, or why the storage could not be read (e.g. blocked). */
  localStorage: Record<string, string> | Error;
  sessionStorage: Record<string, string> | Error;
  /** `null` when the browser cannot list databases. */
  indexedDB: DatabaseDump[] | null;
  /** Cache Storage (the service worker's app shell); `null` when the browser has none. */
  caches: CacheDump[] | null;
  readAt: Date;
}

export async function readEverything(): Promise<Snapshot> {
  return {
    cookie: document.cookie,
    localStorage: readStorage(() => window.localStorage),
    sessionStorage: readStorage(() => window.sessionStorage),
    indexedDB: await readIndexedDB(),
    caches: await readCaches(),
    readAt: new Date(),
  };
}

function readStorage(get: () => Storage): Record<string, string> | Error {
  try {
    const storage = get();
    const out: Record<string, string> = {};
    for (let i = 0; i < storage.length; i += 1) {
      const key = storage.key(i);
      if (key !== null) out[key] = storage.getItem(key) ?? '';
    }
    return out;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

async function readIndexedDB(): Promise<DatabaseDump[] | null> {
  if (typeof indexedDB === 'undefined' || typeof indexedDB.databases !== 'function') return null;
  const listed = await indexedDB.databases();
  const dumps = await Promise.all(
    listed.map(async (info) => (info.name ? dumpDatabase(info.name).catch(() => null) : null)),
  );
  return dumps.filter((d): d is DatabaseDump => d !== null);
}

async function readCaches(): Promise<CacheDump[] | null> {
  if (typeof caches === 'undefined') return null;
  return Promise.all(
    (await caches.keys()).map(async (name) => {
      const cache = await caches.open(name);
      const entries = await Promise.all(
        (await cache.keys()).map(async (request) => {
          const response = await cache.match(request);
          return {
            url: request.url,
            status: response?.status ?? 0,
            type: response?.headers.get('Content-Type') ?? null,
          };
        }),
      );
      return { name, entries };
    }),
  );
}

const done = <T>(request: IDBRequest<T>) =>
  new Promise<T>((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed'));
  });

async function dumpDatabase(name: string): Promise<DatabaseDump> {
  const open = indexedDB.open(name);
  // Opening a name that vanished since the listing would create it: refuse instead.
  open.onupgradeneeded = () => open.transaction?.abort();
  const db = await done(open);
  try {
    const names = [...db.objectStoreNames];
    if (names.length === 0) return { name, version: db.version, stores: [] };
    const tx = db.transaction(names, 'readonly');
    const stores = await Promise.all(
      names.map(async (storeName): Promise<StoreDump> => {
        const store = tx.objectStore(storeName);
        const [keys, values] = await Promise.all([done(store.getAllKeys()), done(store.getAll())]);
        return {
          name: storeName,
          records: keys.map((key, i) => ({ key, value: values[i] as unknown })),
        };
      }),
    );
    return { name, version: db.version, stores };
  } finally {
    db.close();
  }
}

/** JSON for display; values JSON cannot hold (binary, bigint, Map…) get a readable stand-in. */
export function show(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) => {
      if (typeof v === 'bigint') return `${v.toString()}n`;
      if (v instanceof Blob) return `[Blob, ${v.size} bytes]`;
      if (v instanceof ArrayBuffer) return `[ArrayBuffer, ${v.byteLength} bytes]`;
      if (ArrayBuffer.isView(v)) return `[${v.constructor.name}, ${v.byteLength} bytes]`;
      if (v instanceof Map) return Object.fromEntries(v as Map<PropertyKey, unknown>);
      if (v instanceof Set) return [...(v as Set<unknown>)];
      return v;
    },
    2,
  );
}

const CREDENTIAL_COOKIE =
  /(^|;\s*)(__Host-Http-session|__Host-Http-refresh|__Host-session|__Secure-refresh)=/;
/** Answers that must never be cached: credentials and private data come from these routes. */
const PRIVATE_PATH = /^\/(auth|api|bff)(\/|$)/;
const JWT = /eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]+/;

/**
 * What in the snapshot looks like a credential: a Latchkey cookie visible to script, or a
 * JWT-shaped string anywhere in storage. An empty list is the expected answer.
 */
export function findCredentials(snapshot: Snapshot): string[] {
  const findings: string[] = [];
  if (CREDENTIAL_COOKIE.test(snapshot.cookie)) findings.push('a session cookie in document.cookie');
  if (JWT.test(snapshot.cookie)) findings.push('a token in document.cookie');
  if (JWT.test(show(snapshot.localStorage))) findings.push('a token in localStorage');
  if (JWT.test(show(snapshot.sessionStorage))) findings.push('a token in sessionStorage');
  if (JWT.test(show(snapshot.indexedDB))) findings.push('a token in IndexedDB');
  const cached = (snapshot.caches ?? []).flatMap((c) => c.entries.map((e) => new URL(e.url)));
  if (cached.some((url) => PRIVATE_PATH.test(url.pathname) || url.origin !== location.origin)) {
    findings.push('a private answer in Cache Storage');
  }
  return findings;
}
