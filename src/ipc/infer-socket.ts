// One infer.sock connection, protocol v1 exactly as contract §1.4 loops it: read a frame, decode,
// resolve, admit, generate, write the terminal frame, then read the next frame. Requests on one
// connection therefore run one after another. Every piece is the one POST /infer uses: the
// NDJSON reader and encoder, decodeV1Request/resolveV1Request, the shared InferenceGate (so
// queue_full counts HTTP and socket clients alike) and runV1.
//
// | failure                          | frame                                  | connection |
// |----------------------------------|----------------------------------------|------------|
// | frame over 64 MiB                | error{id:"",code:"frame_too_large"}    | closed     |
// | bad JSON / UTF-8 / request shape | error{id:"",code:"invalid_request"}    | closed     |
// | resolve (empty messages, …)      | error{id,code:"invalid_request"}       | open       |
// | queue_full                       | error{id,code:"queue_full"}            | open       |
// | not serving (reload, drain)      | error{id,code:"backend_unavailable"}   | closed     |
// | client gone / write timeout      | none: the EOF is the signal            | closed     |
import type net from 'node:net';
import { InferdError, toInferdError } from '../errors.js';
import type { InferenceGate } from '../inference/gate.js';
import { runV1 } from '../inference/v1-run.js';
import type { Metrics } from '../metrics/metrics.js';
import { ndjsonLine } from '../protocol/ndjson.js';
import { readNdjson } from '../protocol/ndjson-reader.js';
import { StreamPump } from '../protocol/stream-pump.js';
import { decodeV1Request, errorFrame, resolveV1Request, type V1Frame, type V1Request } from '../protocol/v1.js';
import { durationMs, newRequestLog, noteCut, outcomeOf, runWithRequestLog, writeRequestLine, type RequestLogRecord, type RequestLogger } from '../log/request-log.js';

/** The metrics route label of requests served over infer.sock. */
export const INFER_SOCK_ROUTE = 'infer_sock';

export interface InferSessionDeps {
  gate: InferenceGate;
  metrics: Metrics;
  /** F-17: a reader that stops reading for this long is dropped and its slot freed (0: never). */
  writeTimeoutMs: number;
  /** Where each request's one log line goes. */
  log?: RequestLogger;
}

let requestCounter = 0;

const ignore = (): void => {};

/** A frame as one NDJSON line. A frame over the writer cap becomes an `internal` error frame. */
function encode(frame: V1Frame): string {
  try {
    return ndjsonLine(JSON.stringify(frame));
  } catch (err) {
    return ndjsonLine(JSON.stringify(errorFrame(frame.id, new InferdError('internal', `response frame not sent: ${toInferdError(err).message}`))));
  }
}

export class InferSession {
  readonly #socket: net.Socket;
  readonly #deps: InferSessionDeps;
  readonly #pump: StreamPump;
  #busy = false;
  #closing = false;

  constructor(socket: net.Socket, deps: InferSessionDeps) {
    this.#socket = socket;
    this.#deps = deps;
    this.#pump = new StreamPump(socket, { writeTimeoutMs: deps.writeTimeoutMs });
    // The client's EOF while a request runs is either a half-close (nc -N: it still wants the
    // answer, docs/protocol.md) or a full close (nobody will read it). A zero-length write tells
    // them apart: it succeeds on a half-closed socket and fails with EPIPE on a closed one, and
    // that error aborts the pump's signal, which cancels the generation and frees the slot.
    socket.on('readable', this.#checkEof);
    socket.on('end', this.#probe);
  }

  /** In paused mode 'end' waits for a read: ask for it as soon as EOF is all that is left. */
  readonly #checkEof = (): void => {
    if (this.#busy && this.#socket.readableLength === 0) this.#socket.read(0);
  };

  readonly #probe = (): void => {
    if (!this.#busy || this.#pump.gone || this.#socket.destroyed) return;
    this.#socket.write('', () => undefined);
  };

  /** True between reading a request and writing its terminal frame. */
  get busy(): boolean {
    return this.#busy;
  }

  /**
   * The daemon stops serving inference (reload or drain): an idle connection is closed now; a
   * busy one after its current request's terminal frame.
   */
  close(): void {
    this.#closing = true;
    if (!this.#busy) this.#socket.destroy();
  }

  /** Drops the connection now (shutdown gave up waiting); a running generation is cancelled. */
  destroy(): void {
    this.#closing = true;
    this.#pump.destroy('destroyed', 'daemon stopping');
  }

  /** Serves requests until EOF, an error that closes the connection, or close(). Never rejects. */
  async run(): Promise<void> {
    try {
      for await (const item of readNdjson(this.#socket)) {
        this.#busy = true;
        const record = newRequestLog();
        if (item.kind === 'error') {
          record.outcome = item.error.code;
          await this.#send(errorFrame('', item.error)); // frame_too_large or a decode error
          this.#logLine(record, undefined);
          break;
        }
        let request: V1Request;
        try {
          request = decodeV1Request(item.value);
        } catch (err) {
          const error = toInferdError(err);
          record.outcome = error.code;
          await this.#send(errorFrame('', error));
          this.#logLine(record, clientId(item.value));
          break;
        }
        const keepOpen = await runWithRequestLog(record, () => this.#serve(request, record));
        this.#logLine(record, request.id);
        this.#busy = false;
        if (!keepOpen || this.#closing) break;
      }
      // EOF from the client (after a half-close every answer has been written), or we end it.
      if (!this.#pump.gone) await this.#pump.end();
    } catch {
      // A socket error or a peer that left: nothing more can be written.
    } finally {
      this.#busy = false;
      this.#socket.destroy();
    }
  }

  /** One decoded request to its terminal frame. Returns whether the connection stays open. */
  async #serve(request: V1Request, record: RequestLogRecord): Promise<boolean> {
    try {
      resolveV1Request(request);
    } catch (err) {
      const error = toInferdError(err);
      record.outcome = error.code;
      return this.#send(errorFrame(request.id, error));
    }
    const pump = this.#pump;
    let lease;
    try {
      // The peer-gone signal: a client that leaves while queued gives its place back.
      lease = await this.#deps.gate.lease(pump.signal);
    } catch (err) {
      if (pump.gone) {
        noteCut(record, this.#cut());
        return false;
      }
      const error = toInferdError(err);
      record.outcome = error.code;
      const sent = await this.#send(errorFrame(request.id, error));
      // queue_full leaves the connection usable; "not serving" (reload, drain) closes it.
      return sent && error.code === 'queue_full';
    }
    // Tokens come from a synchronous callback and are not awaited: a reader that stops reading
    // is cut off by the pump's write timeout, which aborts the lease's signal and so generation.
    const emit = (frame: V1Frame): void => {
      pump.write(encode(frame)).catch(ignore);
    };
    const outcome = await runV1(request, lease, emit, this.#deps.metrics.observer(INFER_SOCK_ROUTE));
    // Cancelled because the client went away: no terminal frame (contract §1.6).
    if (pump.gone) {
      noteCut(record, this.#cut());
      return false;
    }
    return this.#send(outcome.frame);
  }

  /** Why the pump is gone, as a log outcome. */
  #cut(): string {
    const why = (this.#pump.signal.reason as { detail?: { reason?: unknown } } | undefined)?.detail?.reason;
    return why === 'write_timeout' ? 'write_timeout' : why === 'destroyed' ? 'server_closing' : 'client_closed';
  }

  #logLine(record: RequestLogRecord, id: string | undefined): void {
    const log = this.#deps.log;
    if (!log) return;
    const outcome = outcomeOf(record, 'ok');
    writeRequestLine(
      log,
      {
        transport: 'infer.sock',
        req_id: `sock-${++requestCounter}`,
        id,
        outcome,
        duration_ms: durationMs(record),
        prompt_tokens: record.promptTokens,
        completion_tokens: record.completionTokens,
      },
      outcome === 'internal',
    );
  }

  /** Writes one frame and waits for the socket to take it; false when the peer is gone. */
  async #send(frame: V1Frame): Promise<boolean> {
    try {
      await this.#pump.write(encode(frame));
      return true;
    } catch {
      return false;
    }
  }
}

/** The `id` of a frame that failed validation, when it had a string one (for the log only). */
function clientId(value: unknown): string | undefined {
  const id = (value as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id : undefined;
}
