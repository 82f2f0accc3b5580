import { errorBody, LatchkeyError } from '../errors.js';

export function json(status: number, body: unknown, headers?: HeadersInit): Response {
  const response = new Response(JSON.stringify(body), headers ? { status, headers } : { status });
  response.headers.set('Content-Type', 'application/json; charset=utf-8');
  return response;
}

export function noContent(headers?: HeadersInit): Response {
  return new Response(null, headers ? { status: 204, headers } : { status: 204 });
}

/** The one JSON error shape, for every failure. */
export function errorResponse(error: LatchkeyError): Response {
  return json(error.status, errorBody(error), error.headers);
}
