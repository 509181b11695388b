// Last-Event-ID: a browser EventSource that loses its connection gets exactly the events it
// missed when it reconnects, checked with the `eventsource` package doing the reconnecting.
import { EventSource } from 'eventsource';
import t from 'tap';
import { startDaemon } from '../helpers/daemon.js';

t.test('EventSource reconnects with Last-Event-ID and gets exactly the missed events', async (t) => {
  const { url, daemon } = await startDaemon(t, {}, { start: false });
  const received: Array<{ id: string; status: string; phase?: string }> = [];
  let opens = 0;
  const es = new EventSource(`${url}/admin/status`);
  t.teardown(() => es.close());
  es.onopen = () => {
    opens++;
  };
  const ready = new Promise<void>((resolve) => {
    es.onmessage = (event) => {
      const frame = JSON.parse(event.data) as { status: string; phase?: string };
      received.push({ id: event.lastEventId, status: frame.status, ...(frame.phase ? { phase: frame.phase } : {}) });
      if (frame.status === 'ready') resolve();
    };
  });
  while (received.length === 0) await new Promise((r) => setTimeout(r, 20));
  t.same(received, [{ id: `${daemon.lifecycle.bus.bootId}.1`, status: 'starting' }], 'connected at starting');

  // Drop the connection from the server side, then bring the model up while the client is away.
  daemon.app.streams.closeAll();
  await daemon.start();
  await ready;

  t.equal(opens, 2, 'the client reconnected once');
  t.same(
    received.map((r) => (r.phase ? `${r.status}/${r.phase}` : r.status)),
    ['starting', 'loading_model/checking_local', 'loading_model/mmap', 'loading_model/kv_cache', 'capabilities', 'ready'],
    'every event exactly once: the missed ones were replayed, nothing was repeated',
  );
  const boot = daemon.lifecycle.bus.bootId;
  t.same(received.map((r) => r.id), [1, 2, 3, 4, 5, 6].map((n) => `${boot}.${n}`), 'ids continue across the reconnect');
});

t.test('a Last-Event-ID from another boot gets the current state, not a replay', async (t) => {
  const { url, daemon } = await startDaemon(t);
  const { request } = await import('undici');
  const read = async (lastEventId: string) => {
    const res = await request(`${url}/admin/status`, { headers: { accept: 'text/event-stream', 'last-event-id': lastEventId } });
    let text = '';
    for await (const chunk of res.body) {
      text += (chunk as Buffer).toString('utf8');
      if (text.includes('"status":"ready"')) break;
    }
    res.body.destroy();
    return [...text.matchAll(/^data: (.*)$/gm)].map((m) => (JSON.parse(m[1]!) as { status: string; phase?: string }).status);
  };
  t.same(await read('00000000.2'), ['capabilities', 'ready'], 'another boot: capabilities and snapshot');
  t.same(await read('garbage'), ['capabilities', 'ready'], 'an unreadable id: the same');
  const boot = daemon.lifecycle.bus.bootId;
  t.same(await read(`${boot}.2`), ['loading_model', 'loading_model', 'capabilities', 'ready'], 'this boot: the events after 2');
});
