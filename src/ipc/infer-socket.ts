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

/** The metrics route label of requests served over infer.sock. */
export const INFER_SOCK_ROUTE = 'infer_sock';

export interface InferSessionDeps {
  gate: InferenceGate;
  metrics: Metrics;
  /** F-17: a reader that stops reading for this long is dropped and its slot freed (0: never). */
  writeTimeoutMs: number;
}

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
  }

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
        if (item.kind === 'error') {
          await this.#send(errorFrame('', item.error)); // frame_too_large or a decode error
          break;
        }
        let request: V1Request;
        try {
          request = decodeV1Request(item.value);
        } catch (err) {
          await this.#send(errorFrame('', toInferdError(err)));
          break;
        }
        const keepOpen = await this.#serve(request);
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
  async #serve(request: V1Request): Promise<boolean> {
    try {
      resolveV1Request(request);
    } catch (err) {
      return this.#send(errorFrame(request.id, toInferdError(err)));
    }
    const pump = this.#pump;
    let lease;
    try {
      // The peer-gone signal: a client that leaves while queued gives its place back.
      lease = await this.#deps.gate.lease(pump.signal);
    } catch (err) {
      if (pump.gone) return false;
      const error = toInferdError(err);
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
    if (pump.gone) return false;
    return this.#send(outcome.frame);
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
