// The dashboard: lifecycle (admin/status), load (admin/load), model card, reload and the
// playground. Only relative URLs, so the page also works below a proxy prefix.
import { bytes, clock, describe, duration, ms, PHASE_LABEL, STATUS_LABEL } from './format.js';
import { follow, setApiKey, apiKey, authHeaders } from './streams.js';
import { setupPlayground } from './playground.js';

const $ = (id) => document.getElementById(id);
const STEPS = ['download', 'verify', 'mmap', 'kv_cache'];
const CHART_POINTS = 300; // five minutes at one snapshot per second
const TIMELINE_ROWS = 200;

let boot = null;
let restartedTimer = null;
let lastAnnounced = '';
const download = { bytes: 0, at: 0, rate: 0 };

function announce(text) {
  if (text === lastAnnounced) return;
  lastAnnounced = text;
  $('announce').textContent = text;
}

// ---- connection -------------------------------------------------------------------------
const CONN_TEXT = { live: 'Live', reconnecting: 'Reconnecting…', restarted: 'Daemon restarted', key: 'API key needed', connecting: 'Connecting…' };
function setConn(state, why = '') {
  if (state === 'key') askForKey(why);
  const el = $('conn');
  // "Daemon restarted" stays up a few seconds even though the new stream is live.
  if (state === 'live' && restartedTimer) return;
  if (el.dataset.conn === state) return;
  el.dataset.conn = state;
  el.textContent = CONN_TEXT[state];
  $('key-form').hidden = state !== 'key';
  if (state !== 'live') announce(CONN_TEXT[state]);
}

/**
 * Shows the key field. When a key was sent and refused, says why in the daemon's words (its
 * `message`, never the raw body) and forgets the key, so a reload does not send it again.
 */
function askForKey(why) {
  const error = $('key-error');
  if (apiKey()) {
    setApiKey('');
    error.textContent = `The daemon refused this key${why ? `: ${why}` : '.'}`;
    error.hidden = false;
    announce(error.textContent);
  }
  $('key-form').hidden = false;
  $('key').focus();
}

/** Every stream carries the boot id; a new one means a new daemon process. */
function seeBoot(id) {
  if (!id || id === boot) return;
  const previous = boot;
  boot = id;
  $('boot').textContent = id;
  if (previous === null) return;
  addSeparator(`Daemon restarted (boot ${id})`);
  resetModel();
  clearTimeout(restartedTimer);
  restartedTimer = null;
  setConn('restarted');
  announce(`Daemon restarted, new boot ${id}`);
  restartedTimer = setTimeout(() => { restartedTimer = null; setConn('live'); }, 8000);
}

// ---- lifecycle --------------------------------------------------------------------------
function onStatus(frame, eventId) {
  seeBoot(eventId?.split('.')[0]);
  if (frame.type !== 'status') return;
  addTimelineRow(frame);
  if (frame.status === 'capabilities') return showCapabilities(frame);
  const label = STATUS_LABEL[frame.status] ?? frame.status;
  const text = frame.phase ? `${label}: ${PHASE_LABEL[frame.phase] ?? frame.phase}` : label;
  const state = $('state');
  state.dataset.state = frame.status;
  state.textContent = frame.status === 'failed' ? `Failed: ${frame.message}` : text;
  announce(frame.phase === 'download' ? `${label}: downloading` : state.textContent);
  showSteps(frame);
  if (frame.phase === 'download') showDownload(frame);
}

function showSteps(frame) {
  if (frame.status === 'ready') {
    for (const li of $('steps').children) if (li.dataset.s === 'current') li.dataset.s = 'done';
    return;
  }
  const at = STEPS.indexOf(frame.phase);
  if (frame.phase === 'checking_local' || frame.phase === 'drain') {
    for (const li of $('steps').children) delete li.dataset.s;
    return;
  }
  if (at < 0) return;
  STEPS.forEach((step, i) => {
    const li = $('steps').children[i];
    if (i < at) { if (li.dataset.s === 'current') li.dataset.s = 'done'; }
    else if (i === at) li.dataset.s = 'current';
    else delete li.dataset.s;
  });
}

function showDownload(frame) {
  $('download').hidden = false;
  const now = performance.now();
  const total = frame.total_bytes;
  if (download.at && frame.downloaded_bytes >= download.bytes && now > download.at) {
    const rate = ((frame.downloaded_bytes - download.bytes) * 1000) / (now - download.at);
    download.rate = download.rate ? download.rate * 0.7 + rate * 0.3 : rate;
  }
  download.bytes = frame.downloaded_bytes;
  download.at = now;
  const bar = $('dl-bar');
  const parts = [`${bytes(frame.downloaded_bytes)} of ${total == null ? 'unknown size' : bytes(total)}`];
  if (total) {
    const pct = Math.min(100, (frame.downloaded_bytes / total) * 100);
    bar.value = pct;
    bar.setAttribute('aria-valuetext', `${pct.toFixed(0)} %`);
    parts.unshift(`${pct.toFixed(pct === 100 ? 0 : 1)} %`);
  } else {
    bar.removeAttribute('value');
  }
  if (download.rate > 0) {
    parts.push(`${bytes(download.rate)}/s`);
    if (total && total > frame.downloaded_bytes) parts.push(`ETA ${duration((total - frame.downloaded_bytes) / download.rate)}`);
  }
  $('dl-text').textContent = parts.join(' · ');
}

function addTimelineRow(frame) {
  const list = $('timeline');
  const first = list.firstElementChild;
  // Download progress comes many times a second: update one row instead of adding rows.
  if (frame.phase === 'download' && first?.dataset.key === `${frame.status}/download`) {
    first.lastElementChild.textContent = `${STATUS_LABEL[frame.status]} · ${describe(frame)}`;
    return;
  }
  const li = document.createElement('li');
  li.dataset.key = `${frame.status}/${frame.phase ?? ''}`;
  const time = document.createElement('time');
  time.textContent = clock();
  const text = document.createElement('span');
  const label = STATUS_LABEL[frame.status] ?? frame.status;
  const detail = describe(frame);
  text.textContent = detail ? `${label} · ${detail}` : label;
  li.append(time, text);
  list.prepend(li);
  while (list.children.length > TIMELINE_ROWS) list.lastElementChild.remove();
}

function addSeparator(text) {
  const li = document.createElement('li');
  const span = document.createElement('span');
  span.className = 'sep';
  span.textContent = `${clock()} — ${text}`;
  li.append(span);
  $('timeline').prepend(li);
}

// ---- model ------------------------------------------------------------------------------
const CAPS = ['tools', 'embed', 'vision', 'audio', 'thinking'];
function showCapabilities(frame) {
  $('m-name').textContent = frame.backend;
  if (frame.n_ctx) $('m-ctx').textContent = `${frame.n_ctx} tokens`;
  $('m-accel').textContent = frame.gpu_layers ? `${frame.accelerator}, ${frame.gpu_layers} GPU layers` : frame.accelerator;
  const list = $('caps');
  list.replaceChildren(...CAPS.map((cap) => {
    const li = document.createElement('li');
    li.dataset.on = String(Boolean(frame[cap]));
    li.textContent = cap;
    li.title = frame[cap] ? `${cap}: supported` : `${cap}: not supported`;
    return li;
  }));
}

function showModel(model) {
  if (!model) return;
  $('m-name').textContent = model.name;
  $('m-size').textContent = bytes(model.size_bytes);
  $('m-sha').textContent = model.sha256 ?? 'not pinned (local file)';
  $('m-ctx').textContent = `${model.n_ctx} tokens`;
  $('m-threads').textContent = String(model.threads);
}

function resetModel() {
  for (const id of ['m-name', 'm-size', 'm-sha', 'm-ctx', 'm-threads', 'm-accel']) $(id).textContent = '—';
  $('caps').replaceChildren();
}

// ---- load -------------------------------------------------------------------------------
const series = [[], []];
let chart = null;

function onLoad(snapshot) {
  if (snapshot.type !== 'load') return;
  seeBoot(snapshot.boot);
  $('l-busy').textContent = String(snapshot.slots_busy);
  $('l-total').textContent = String(snapshot.slots_total);
  $('l-queue').textContent = `${snapshot.queued} of ${snapshot.queue_capacity}`;
  $('l-tps').textContent = snapshot.tokens_per_second.toFixed(1);
  $('l-ttft').textContent = ms(snapshot.ttft_p50_ms);
  $('l-done').textContent = `${snapshot.requests_done} request(s) served since the daemon started.`;
  showModel(snapshot.model);
  series[0].push(Date.now() / 1000);
  series[1].push(snapshot.tokens_per_second);
  if (series[0].length > CHART_POINTS) { series[0].shift(); series[1].shift(); }
  chart?.setData(series);
}

function makeChart() {
  if (typeof uPlot !== 'function') return; // the chart is a bonus; the numbers above still work
  const el = $('chart');
  const color = getComputedStyle(document.documentElement).getPropertyValue('--accent').trim() || '#2457c5';
  const grid = getComputedStyle(document.documentElement).getPropertyValue('--line').trim();
  const axis = { stroke: getComputedStyle(document.documentElement).getPropertyValue('--muted').trim(), grid: { stroke: grid }, ticks: { stroke: grid } };
  chart = new uPlot({
    width: el.clientWidth || 300,
    height: 150,
    legend: { show: false },
    cursor: { show: false },
    scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
    axes: [axis, { ...axis, size: 40 }],
    series: [{}, { label: 'tokens/s', stroke: color, fill: `${color}22`, width: 2 }],
  }, series, el);
  new ResizeObserver(() => chart.setSize({ width: el.clientWidth, height: 150 })).observe(el);
}

// ---- reload and keys --------------------------------------------------------------------
function setupReload() {
  const dialog = $('reload-dialog');
  // A dialog keeps its last returnValue when Escape closes it: clear it, or Escape after an
  // earlier confirmation would reload again.
  $('reload-open').addEventListener('click', () => {
    dialog.returnValue = '';
    dialog.showModal();
  });
  dialog.addEventListener('close', async () => {
    if (dialog.returnValue !== 'confirm') return;
    announce('Reload requested');
    try {
      const res = await fetch('admin/reload', { method: 'POST', headers: authHeaders({ 'content-type': 'application/json' }), body: '{}' });
      if (!res.ok) {
        let message = `HTTP ${res.status}`;
        try { message = (await res.json()).message ?? message; } catch { /* keep the status */ }
        if (res.status === 401) return setConn('key', message);
        announce(`Reload failed: ${message}`);
        addSeparator(`Reload refused: ${message}`);
      }
    } catch {
      announce('Reload failed: the daemon did not answer');
    }
  });
}

const streams = [];
function setupKey() {
  $('key-form').addEventListener('submit', (event) => {
    event.preventDefault();
    setApiKey($('key').value.trim());
    $('key').value = '';
    $('key-form').hidden = true;
    $('key-error').hidden = true;
    setConn('connecting');
    for (const s of streams) s.restart();
  });
}

makeChart();
setupReload();
setupKey();
setupPlayground({ announce, onNeedKey: (why) => setConn('key', why) });
streams.push(follow('admin/status', { onFrame: onStatus, onState: setConn }));
streams.push(follow('admin/load', { onFrame: onLoad, onState: setConn }));
if (apiKey()) $('key-form').hidden = true;
