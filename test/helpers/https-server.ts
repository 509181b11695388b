// A local HTTPS server for download tests: a self-signed certificate made at start (via
// `selfsigned`, trusted by the client through undici `connect.ca` or `ca_file`, never by
// turning verification off), per-route behaviour (Range support on/off, throttling,
// truncation, stalls, redirects, status codes, failing the first N requests) and a request log
// with the bytes actually sent. Also a plain-HTTP server whose log proves "no request arrived".
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { Agent } from 'undici';

export interface FileRoute {
  kind: 'file';
  body: Buffer;
  /** Honour `Range` (and `If-Range`). Default true. */
  range?: boolean;
  /** Strong ETag sent with the file; null sends none. Default: a hash of the body. */
  etag?: string | null;
  lastModified?: string | null;
  /** Send Content-Length (default true); false uses chunked encoding. */
  contentLength?: boolean;
  /** Lie about the length: this value is sent as Content-Length for a full (200) response. */
  declaredLength?: number;
  /** Pace the body: `chunkBytes` every `delayMs`. */
  throttle?: { chunkBytes: number; delayMs: number };
  /** After the first chunk, send nothing more until this settles (lets a test order events exactly). */
  holdAfterFirstChunk?: Promise<void>;
  /** Destroy the socket after sending this many body bytes in a response. */
  truncateAfter?: number;
  /** Stop sending (keep the socket open) after this many body bytes. */
  stallAfter?: number;
  /** Answer the first `times` requests with `status` instead. */
  failFirst?: { times: number; status: number; headers?: Record<string, string> };
}

export interface StatusRoute {
  kind: 'status';
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

export interface RedirectRoute {
  kind: 'redirect';
  /** Absolute URL or a path on this server. */
  location: string;
  status?: number;
}

export type Route = FileRoute | StatusRoute | RedirectRoute;

export interface RequestLogEntry {
  method: string;
  path: string;
  range: string | null;
  ifRange: string | null;
  status: number;
  /** Body bytes written to the socket for this response. */
  bytesSent: number;
  /** True once the response finished or was cut off. */
  done: boolean;
}

export interface TestServer {
  readonly port: number;
  readonly origin: string;
  readonly log: RequestLogEntry[];
  url(path: string): string;
  route(path: string, route: Route): void;
  close(): Promise<void>;
}

export interface HttpsTestServer extends TestServer {
  /** PEM of the self-signed certificate (trust it as a CA). */
  readonly ca: string;
  /** Writes the certificate to `dir/ca.pem` (for `ca_file`) and returns the path. */
  writeCaFile(dir: string): Promise<string>;
  /** A fresh undici Agent trusting this server's certificate; the caller closes it. */
  agent(): Agent;
}

/** A name in the certificate that no resolver knows (RFC 6761 `.test`). */
export const TEST_HOSTNAME = 'models.inferd.test';

export function sha256Hex(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}

/** A payload that looks like a GGUF file: magic, version 3, then deterministic pseudo-random bytes. */
export function ggufLikePayload(size: number, seed = 1): Buffer {
  const buf = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i += 4) {
    // xorshift32: cheap, deterministic, incompressible enough for transfer tests.
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    if (i + 4 <= size) buf.writeUInt32LE(x, i);
    else for (let j = i; j < size; j++) buf[j] = (x >>> ((j - i) * 8)) & 0xff;
  }
  if (size >= 8) {
    buf.write('GGUF', 0, 'latin1');
    buf.writeUInt32LE(3, 4);
  }
  return buf;
}

export async function startHttpsServer(routes: Record<string, Route> = {}): Promise<HttpsTestServer> {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      // `models.inferd.test` resolves nowhere: a test that reaches it proves a pinned lookup was used.
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 2, value: TEST_HOSTNAME }, { type: 7, ip: '127.0.0.1' }] },
    ],
  });
  const state = new RouteTable(routes);
  const server = createHttpsServer({ key: pems.private, cert: pems.cert }, (req, res) => state.handle(req, res));
  const base = await listen(server, state, 'https');
  return {
    ...base,
    ca: pems.cert,
    async writeCaFile(dir: string) {
      const path = join(dir, 'ca.pem');
      await writeFile(path, pems.cert);
      return path;
    },
    agent() {
      return new Agent({ connect: { ca: pems.cert } });
    },
  };
}

/** Plain HTTP, for the "http:// is refused before any I/O" tests. */
export async function startHttpServer(routes: Record<string, Route> = {}): Promise<TestServer> {
  const state = new RouteTable(routes);
  const server = createHttpServer((req, res) => state.handle(req, res));
  return listen(server, state, 'http');
}

async function listen(server: Server, state: RouteTable, scheme: 'http' | 'https'): Promise<TestServer> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const origin = `${scheme}://127.0.0.1:${port}`;
  state.origin = origin;
  return {
    port,
    origin,
    log: state.log,
    url: (path: string) => `${origin}${path}`,
    route: (path: string, route: Route) => state.routes.set(path, route),
    close: async () => {
      state.closed = true;
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

class RouteTable {
  readonly routes: Map<string, Route>;
  readonly log: RequestLogEntry[] = [];
  readonly failures = new Map<string, number>();
  origin = '';
  closed = false;

  constructor(routes: Record<string, Route>) {
    this.routes = new Map(Object.entries(routes));
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const entry: RequestLogEntry = {
      method: req.method ?? 'GET',
      path,
      range: headerOf(req, 'range'),
      ifRange: headerOf(req, 'if-range'),
      status: 0,
      bytesSent: 0,
      done: false,
    };
    this.log.push(entry);
    res.on('close', () => (entry.done = true));
    const route = this.routes.get(path);
    if (!route) return this.send(res, entry, 404, 'not found');
    if (route.kind === 'status') return this.send(res, entry, route.status, route.body ?? '', route.headers);
    if (route.kind === 'redirect') {
      const location = route.location.startsWith('/') ? `${this.origin}${route.location}` : route.location;
      return this.send(res, entry, route.status ?? 302, '', { location });
    }
    const failed = this.failures.get(path) ?? 0;
    if (route.failFirst && failed < route.failFirst.times) {
      this.failures.set(path, failed + 1);
      return this.send(res, entry, route.failFirst.status, 'failing on purpose', route.failFirst.headers);
    }
    this.serveFile(req, res, entry, route);
  }

  private send(res: ServerResponse, entry: RequestLogEntry, status: number, body: string, headers: Record<string, string> = {}): void {
    entry.status = status;
    res.writeHead(status, { 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(body)), ...headers });
    res.end(body);
  }

  private serveFile(req: IncomingMessage, res: ServerResponse, entry: RequestLogEntry, route: FileRoute): void {
    const body = route.body;
    const etag = route.etag === undefined ? defaultEtag(body) : route.etag;
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    if (etag) headers.etag = etag;
    if (route.lastModified) headers['last-modified'] = route.lastModified;
    if (route.range !== false) headers['accept-ranges'] = 'bytes';

    let start = 0;
    let status = 200;
    const range = entry.range;
    const ifRangeOk = entry.ifRange === null || entry.ifRange === etag || (route.lastModified && entry.ifRange === route.lastModified);
    if (route.range !== false && range && ifRangeOk) {
      const m = /^bytes=(\d+)-$/.exec(range);
      if (m) {
        start = Number(m[1]);
        if (start >= body.length) {
          entry.status = 416;
          res.writeHead(416, { 'content-range': `bytes */${body.length}`, 'content-length': '0' });
          res.end();
          return;
        }
        status = 206;
        headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
      }
    }
    const slice = body.subarray(start);
    if (route.contentLength !== false) {
      headers['content-length'] = String(status === 200 && route.declaredLength !== undefined ? route.declaredLength : slice.length);
    }
    entry.status = status;
    res.writeHead(status, headers);
    if (req.method === 'HEAD') return void res.end();
    void this.pump(res, entry, route, slice);
  }

  private async pump(res: ServerResponse, entry: RequestLogEntry, route: FileRoute, slice: Buffer): Promise<void> {
    const chunkBytes = route.throttle?.chunkBytes ?? 256 * 1024;
    const cut = route.truncateAfter ?? Infinity;
    const stall = route.stallAfter ?? Infinity;
    let sent = 0;
    while (sent < slice.length) {
      if (this.closed || res.destroyed) return;
      if (sent >= cut) return void res.socket?.destroy();
      if (sent >= stall) return; // keep the socket open, send nothing more
      const n = Math.min(chunkBytes, slice.length - sent, cut - sent, stall - sent);
      const ok = res.write(slice.subarray(sent, sent + n));
      sent += n;
      entry.bytesSent = sent;
      if (route.holdAfterFirstChunk && sent === n) await route.holdAfterFirstChunk;
      if (route.throttle) await delay(route.throttle.delayMs);
      // writableNeedDrain, not `ok`: a 'drain' that fired during a hold must not be waited for again.
      else if (!ok && res.writableNeedDrain) await new Promise<void>((resolve) => res.once('drain', resolve));
    }
    if (sent >= cut) return void res.socket?.destroy();
    res.end();
  }
}

const etags = new WeakMap<Buffer, string>();

/** A strong ETag from the body's digest, computed once per body (bench bodies are 1 GiB). */
function defaultEtag(body: Buffer): string {
  let etag = etags.get(body);
  if (etag === undefined) {
    etag = `"${sha256Hex(body).slice(0, 16)}"`;
    etags.set(body, etag);
  }
  return etag;
}

function headerOf(req: IncomingMessage, name: string): string | null {
  const v = req.headers[name];
  return typeof v === 'string' ? v : null;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
