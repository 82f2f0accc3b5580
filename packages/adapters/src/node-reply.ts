import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { AuthReply, AuthRequest, ConnectionInfo, Latchkey } from '@latchkey/core';
import { connectionOf, LazyBodyRequest, requestHead } from './incoming.js';

/**
 * The auth routes' view of a Node request: the head read from the parsed headers,
 * the body stream made only when a route reads it (the POST routes).
 */
export function authRequest(incoming: IncomingMessage, url = incoming.url ?? '/'): AuthRequest {
  return new LazyBodyRequest(
    requestHead(incoming),
    url,
    () => Readable.toWeb(incoming) as ReadableStream<Uint8Array>,
  );
}

/** Writes an auth reply with Node's own `writeHead`; headers the app set before are kept. */
export function writeReply(res: ServerResponse, reply: AuthReply): void {
  // A flat [name, value, ...] list, as createNodeResponder writes: cheaper for Node
  // than a record copied from the reply's and then extended (measured in-process).
  const headers: (string | readonly string[])[] = [];
  for (const name in reply.headers) headers.push(name, reply.headers[name] as string);
  if (reply.cookies.length > 0) headers.push('Set-Cookie', reply.cookies);
  if (reply.body !== null) headers.push('Content-Length', String(Buffer.byteLength(reply.body)));
  res.writeHead(reply.status, headers as string[]);
  res.end(reply.body ?? undefined);
}

/**
 * Answers a request for the auth routes on Node's request and response objects,
 * without a Web Request or Response. `url` overrides `incoming.url` (Express
 * strips its mount path from it).
 */
export async function answerNode(
  latchkey: Latchkey,
  incoming: IncomingMessage,
  res: ServerResponse,
  url?: string,
  connection: ConnectionInfo = connectionOf(incoming),
): Promise<void> {
  const reply = await latchkey.answer(authRequest(incoming, url), connection);
  if (!res.headersSent) writeReply(res, reply);
}
