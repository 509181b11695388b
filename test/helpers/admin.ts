// Readers of GET /admin/status for tests: raw NDJSON lines and raw SSE events, so tests can
// compare the exact bytes each transport carries.
import { request } from 'undici';

export interface AdminStream {
  /** Frames (JSON text) received so far, in order. */
  frames: string[];
  /** SSE event ids, parallel to `frames` (SSE only). */
  ids: number[];
  /** Resolves when a frame matching the predicate has arrived (at index `from` or later). */
  until(predicate: (frame: Record<string, unknown>) => boolean, from?: number): Promise<void>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

export async function openAdminStream(base: string, format: 'ndjson' | 'sse', headers: Record<string, string> = {}): Promise<AdminStream> {
  const ac = new AbortController();
  const res = await request(`${base}/admin/status`, {
    headers: { accept: format === 'sse' ? 'text/event-stream' : 'application/x-ndjson', ...headers },
    signal: ac.signal,
  });
  if (res.statusCode !== 200) throw new Error(`admin status answered ${res.statusCode}`);
  const frames: string[] = [];
  const ids: number[] = [];
  const waiters: Array<{ predicate: (f: Record<string, unknown>) => boolean; from: number; resolve: () => void }> = [];
  const check = () => {
    for (const waiter of [...waiters]) {
      if (frames.slice(waiter.from).some((f) => waiter.predicate(JSON.parse(f) as Record<string, unknown>))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  let buffer = '';
  const ended = (async () => {
    try {
      for await (const chunk of res.body) {
        buffer += (chunk as Buffer).toString('utf8');
        const separator = format === 'sse' ? '\n\n' : '\n';
        let at: number;
        while ((at = buffer.indexOf(separator)) >= 0) {
          const unit = buffer.slice(0, at);
          buffer = buffer.slice(at + separator.length);
          if (format === 'ndjson') frames.push(unit);
          else {
            const data = unit.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6));
            const id = unit.split('\n').find((l) => l.startsWith('id: '));
            if (data.length === 0) continue; // retry preamble or a `: ping` comment
            frames.push(data.join('\n'));
            ids.push(Number(id?.slice(4).split('.').at(-1))); // `id: <boot>.<n>`
          }
        }
        check();
      }
    } catch {
      // aborted by close()
    }
  })();
  return {
    frames,
    ids,
    until: (predicate, from = 0) =>
      new Promise<void>((resolve, reject) => {
        waiters.push({ predicate, from, resolve });
        check();
        void ended.then(() => {
          if (waiters.some((w) => w.resolve === resolve)) reject(new Error(`stream ended before the awaited frame; got ${frames.join(' | ')}`));
        });
      }),
    ended,
    close: () => ac.abort(),
  };
}

export const isStatus = (status: string) => (frame: Record<string, unknown>) => frame.status === status;
