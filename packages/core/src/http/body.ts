import { fail } from '../errors.js';
import type { RequestHead } from './types.js';

/**
 * Reads a JSON request body under a byte limit. Refuses a non-JSON media type
 * (415), a declared or actual size above the limit (413, without reading the rest),
 * and bytes that are not UTF-8 JSON (400). Never throws anything but LatchkeyError.
 */
export async function readJsonBody(
  request: Pick<RequestHead, 'headers'> & { readonly body: ReadableStream<Uint8Array> | null },
  limit: number,
): Promise<unknown> {
  const type = request.headers.get('content-type');
  const mediaType = type?.split(';', 1)[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json') throw fail('unsupported_media_type');

  const declared = request.headers.get('content-length');
  if (declared !== null && (!/^\d+$/.test(declared) || Number(declared) > limit)) {
    throw fail(/^\d+$/.test(declared) ? 'payload_too_large' : 'invalid_request');
  }
  if (!request.body) throw fail('invalid_request', { message: 'The request body is empty.' });

  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => undefined);
        throw fail('payload_too_large');
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof Error && error.name === 'LatchkeyError') throw error;
    throw fail('invalid_request', { cause: error });
  }

  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    throw fail('invalid_request', {
      message: 'The request body is not valid UTF-8.',
      cause: error,
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw fail('invalid_request', { message: 'The request body is not valid JSON.', cause: error });
  }
}
