// The CLI progress display (src/cli/progress-bar.ts): TTY redraws vs plain lines, rate, ETA.
import t from 'tap';
import { formatBytes, formatDuration, ProgressBar, RateMeter } from '../../src/cli/progress-bar.js';

function sink(isTTY: boolean) {
  const out: string[] = [];
  return { out, stream: { isTTY, columns: 120, write: (s: string) => out.push(s) } };
}

t.test('formatting', async (t) => {
  t.equal(formatBytes(0), '0 B');
  t.equal(formatBytes(1536), '1.50 KiB');
  t.equal(formatBytes(5126304928), '4.77 GiB');
  t.equal(formatBytes(182 * 1024 * 1024), '182 MiB');
  t.equal(formatDuration(42), '42s');
  t.equal(formatDuration(187), '3:07');
  t.equal(formatDuration(3723), '1:02:03');
  t.equal(formatDuration(Infinity), '--');
});

t.test('rate over a sliding window; a restart from 0 resets it', async (t) => {
  const m = new RateMeter(5_000);
  m.sample(0, 0);
  t.equal(m.rate(), null, 'one sample is not a rate');
  m.sample(10_000_000, 1_000);
  t.equal(m.rate(), 10_000_000);
  m.sample(0, 2_000);
  t.equal(m.rate(), null, 'restart resets');
});

t.test('TTY: in-place redraws with bar, bytes, rate and ETA; finish ends the line', async (t) => {
  const { out, stream } = sink(true);
  let now = 0;
  const bar = new ProgressBar({ label: 'model', stream, now: () => now });
  bar.update(0, 100 * 1024 * 1024);
  now = 1000;
  bar.update(25 * 1024 * 1024, 100 * 1024 * 1024);
  now = 1050;
  bar.update(26 * 1024 * 1024, 100 * 1024 * 1024); // throttled: within 100 ms
  t.equal(out.length, 2);
  t.match(out[1], /^\r\x1b\[K/);
  t.match(out[1], /model {2}\[#{8}-{22}\] {2} 25\.0% {2}25\.0 MiB \/ 100 MiB {2}25\.0 MiB\/s {2}ETA 3s/);
  bar.finish('done');
  t.equal(out.at(-2), '\n');
  t.equal(out.at(-1), 'done\n');
});

t.test('not a TTY: plain lines, throttled, no control characters', async (t) => {
  const { out, stream } = sink(false);
  let now = 0;
  const bar = new ProgressBar({ label: 'm', stream, now: () => now, plainIntervalMs: 2_000 });
  for (let i = 0; i <= 10; i++) {
    now = i * 500;
    bar.update(i * 1024 * 1024, 10 * 1024 * 1024, i === 10);
  }
  t.ok(out.every((l) => l.endsWith('\n') && !l.includes('\r') && !l.includes('\x1b')));
  t.equal(out.length, 4, 'at 0 s, 2 s, 4 s and the forced final update');
  t.match(out.at(-1), /^m {2}100\.0% {2}10\.0 MiB \/ 10\.0 MiB {2}2\.00 MiB\/s\n$/);
  bar.log('a message');
  t.equal(out.at(-1), 'a message\n');
  const n = out.length;
  bar.finish('verifying');
  bar.finish();
  t.same(out.slice(n), ['verifying\n'], 'finish does not repeat a state already printed');
});

t.test('unknown total: bytes and rate only', async (t) => {
  const { out, stream } = sink(false);
  let now = 0;
  const bar = new ProgressBar({ label: 'm', stream, now: () => now });
  bar.update(0, null);
  now = 3000;
  bar.update(3 * 1024 * 1024, null);
  t.match(out.at(-1), /^m {2}3\.00 MiB {2}1\.00 MiB\/s\n$/);
});
