// Small HTTP client helpers for tests, on undici (the same client library the daemon uses).
import { request } from 'undici';
import type { V1Frame } from '../../src/protocol/v1.js';

export interface JsonResponse<T = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
}

export async function postJson<T = unknown>(url: string, body: unknown, headers: Record<string, string> = {}): Promise<JsonResponse<T>> {
  const res = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as T };
}

export async function getJson<T = unknown>(url: string): Promise<JsonResponse<T>> {
  const res = await request(url);
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as T };
}

/** POSTs a v1 request and collects the NDJSON frames of the streamed answer. */
export async function inferNdjson(base: string, body: unknown): Promise<{ status: number; contentType: string | undefined; frames: V1Frame[] }> {
  const res = await request(`${base}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.body.text();
  const lines = text.split('\n');
  if (lines.pop() !== '') throw new Error(`NDJSON stream did not end with a newline: ${JSON.stringify(text.slice(-80))}`);
  return {
    status: res.statusCode,
    contentType: res.headers['content-type'] as string | undefined,
    frames: lines.map((line) => JSON.parse(line) as V1Frame),
  };
}
