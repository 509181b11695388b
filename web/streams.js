// EventSource streams that survive drops, restarts and API keys. Without a key the browser's
// own reconnect resumes with Last-Event-ID. With a key, EventSource cannot send headers, so
// each connection uses a single-use ticket; a dropped one cannot be resumed with the used
// ticket, so we open a new EventSource with a fresh ticket and `last_event_id`.
const KEY_ITEM = 'inferd.key';

export function apiKey() {
  return sessionStorage.getItem(KEY_ITEM) ?? '';
}

export function setApiKey(key) {
  if (key) sessionStorage.setItem(KEY_ITEM, key);
  else sessionStorage.removeItem(KEY_ITEM);
}

export function authHeaders(extra = {}) {
  const key = apiKey();
  return key ? { ...extra, authorization: `Bearer ${key}` } : extra;
}

/**
 * Thrown when the daemon refuses the request for want of a (good) key: the page asks for one.
 * `message` is the daemon's own sentence (never the raw body), empty when no key was sent.
 */
export class NeedKey extends Error {}

/** The `message` of an error body, or '' (the body is never shown as it is). */
async function errorMessage(res) {
  try {
    const body = await res.json();
    const message = body?.message ?? body?.error?.message;
    return typeof message === 'string' ? message : '';
  } catch {
    return '';
  }
}

async function ticketQuery() {
  if (!apiKey()) return '';
  const res = await fetch('admin/stream-ticket', {
    method: 'POST',
    headers: authHeaders({ 'content-type': 'application/json' }),
    body: '{}',
  });
  if (res.status === 401 || res.status === 403) throw new NeedKey(await errorMessage(res));
  if (!res.ok) throw new Error(`stream ticket: HTTP ${res.status}`);
  const { ticket } = await res.json();
  return `ticket=${encodeURIComponent(ticket)}`;
}

/** Why an EventSource closed for good: a 401 means "ask for a key", anything else: retry. */
async function probe(path) {
  const ctl = new AbortController();
  try {
    const res = await fetch(`${path}?format=ndjson`, { headers: authHeaders(), signal: ctl.signal });
    return { status: res.status, message: res.ok ? '' : await errorMessage(res) };
  } catch {
    return { status: 0, message: '' };
  } finally {
    ctl.abort();
  }
}

/**
 * Follows `path` (relative) as SSE. `onFrame(data, lastEventId)` gets each parsed frame;
 * `onState('live' | 'reconnecting' | 'key', why?)` reports the connection; with 'key', `why`
 * is the daemon's reason when it refused a key that was sent.
 */
export function follow(path, { onFrame, onState }) {
  let source = null;
  let lastId = '';
  let timer = null;
  let closed = false;

  const open = async () => {
    timer = null;
    if (closed) return;
    let query = [];
    try {
      const ticket = await ticketQuery();
      if (ticket) {
        query.push(ticket);
        if (lastId) query.push(`last_event_id=${encodeURIComponent(lastId)}`);
      }
    } catch (err) {
      if (err instanceof NeedKey) return onState('key', err.message);
      return retry();
    }
    source = new EventSource(query.length ? `${path}?${query.join('&')}` : path);
    source.onopen = () => onState('live');
    source.onmessage = (event) => {
      if (event.lastEventId) lastId = event.lastEventId;
      let frame;
      try { frame = JSON.parse(event.data); } catch { return; }
      onFrame(frame, event.lastEventId);
    };
    source.onerror = async () => {
      onState('reconnecting');
      // CONNECTING: the browser reconnects by itself (with Last-Event-ID). A ticket is spent,
      // though, so with a key we always start over ourselves.
      if (source.readyState === EventSource.CONNECTING && !apiKey()) return;
      source.close();
      const { status, message } = await probe(path);
      if (status === 401 || status === 403) return onState('key', message);
      retry();
    };
  };
  const retry = () => {
    if (!closed && timer === null) timer = setTimeout(open, 1500);
  };

  open();
  return {
    restart() { source?.close(); if (timer) clearTimeout(timer); timer = null; open(); },
    close() { closed = true; source?.close(); if (timer) clearTimeout(timer); },
  };
}
