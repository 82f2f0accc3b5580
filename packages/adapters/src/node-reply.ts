import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { AuthReply, AuthRequest, ConnectionInfo, Latchkey } from '@latchkey/core';
import { connectionOf, requestHead } from './incoming.js';

/**
 * The auth routes' view of a Node request: the head read from the parsed headers,
 * the body stream made only when a route reads it (the POST routes).
 */
export function authRequest(incoming: IncomingMessage, url = incoming.url ?? '/'): AuthRequest {
  const head = requestHead(incoming);
  let body: ReadableStream<Uint8Array> | null | undefined;
  return {
    method: head.method,
    headers: head.headers,
    url,
    get body() {
      return (body ??= Readable.toWeb(incoming) as ReadableStream<Uint8Array>);
    },
  };
}

/** Writes an auth reply with Node's own `writeHead`; headers the app set before are kept. */
export function writeReply(res: ServerResponse, reply: AuthReply): void {
  const headers: Record<string, string | readonly string[]> = { ...reply.headers };
  if (reply.cookies.length > 0) headers['Set-Cookie'] = reply.cookies;
  if (reply.body !== null) headers['Content-Length'] = String(Buffer.byteLength(reply.body));
  res.writeHead(reply.status, headers as Record<string, string | string[]>);
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
