/**
 * What `authenticate()` reads of a request: its method and a few headers. A Web
 * `Request` is one; so is a light view over a Node `IncomingMessage` (see
 * `@latchkey/adapters/node`), which spares the hot path building a Request per call.
 * `get` answers like `Headers.get`: the value (repeated headers joined), or null.
 */
export interface RequestHead {
  readonly method: string;
  readonly headers: { get(name: string): string | null };
}
