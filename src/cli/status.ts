// `inferd status`: follow the daemon's lifecycle until it is ready (exit 0), showing download
// progress as a bar. `--watch` keeps following. Exit 1 on `failed`, `draining` or EOF before
// ready; exit 2 when no daemon answers.
import type { Command } from 'commander';
import type { StatusEvent } from '../status/events.js';
import { describeTarget, openAdminStream, statusEvents, type AdminTarget } from './admin-client.js';
import { EXIT, loadConfigOrExit, withConfigOption } from './common.js';
import { ProgressBar } from './progress-bar.js';
import { describe } from './status-text.js';
import { followFleet } from './status-fleet.js';

export { describe };

interface StatusFlags {
  config?: string;
  url?: string[];
  adminAddr?: string;
  watch?: boolean;
  json?: boolean;
  wait?: string;
}

export function registerStatus(program: Command): void {
  withConfigOption(
    program
      .command('status')
      .description('follow the daemon until it is ready (exit 0); exit 1 on failed, draining or EOF')
      .option('--url <url>', 'daemon base URL (default from config: http://<host>:<port>); repeat it to watch a fleet, one row per daemon, until Ctrl-C', collect, [])
      .option('--admin-addr <path>', 'read admin.sock at this path instead of HTTP')
      .option('--watch', 'keep following after ready')
      .option('--wait <seconds>', 'keep trying to connect this long when no daemon answers yet', '10')
      .option('--json', 'print the raw frames (NDJSON) instead of text'),
  ).action(async (flags: StatusFlags) => {
    if ((flags.url?.length ?? 0) > 1) {
      const ac = new AbortController();
      process.once('SIGINT', () => ac.abort());
      process.exit(await followFleet(flags.url!, process.stdout, ac.signal));
    }
    process.exit(await followStatus(adminTarget({ ...flags, url: flags.url?.[0] }), flags));
  });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function adminTarget(flags: { config?: string; url?: string; adminAddr?: string }): AdminTarget {
  if (flags.adminAddr) return { kind: 'unix', path: flags.adminAddr };
  if (flags.url) return { kind: 'http', url: flags.url };
  const { config } = loadConfigOrExit(flags.config);
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return { kind: 'http', url: `http://${host.includes(':') ? `[${host}]` : host}:${config.port}` };
}

async function followStatus(target: AdminTarget, flags: StatusFlags): Promise<number> {
  const ac = new AbortController();
  const waitMs = Number(flags.wait ?? 10) * 1000;
  if (!Number.isFinite(waitMs) || waitMs < 0) {
    process.stderr.write(`inferd: --wait must be a number of seconds (got "${flags.wait}")\n`);
    return EXIT.usage;
  }
  let stream;
  // A daemon that is just starting may not listen yet: retry with backoff (contract §1.11).
  for (let delay = 100, deadline = Date.now() + waitMs; ; delay = Math.min(delay * 2, 1000)) {
    try {
      stream = await openAdminStream(target, ac.signal);
      break;
    } catch (err) {
      if (Date.now() + delay > deadline) {
        process.stderr.write(`inferd: ${(err as Error).message}\n`);
        return EXIT.usage;
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
  const bar = new ProgressBar({ label: 'downloading' });
  let barActive = false;
  const say = (line: string) => (barActive ? bar.log(line) : process.stderr.write(`${line}\n`));
  try {
    for await (const event of statusEvents(stream)) {
      if (flags.json) process.stdout.write(`${JSON.stringify({ id: 'admin', type: 'status', ...event })}\n`);
      if (event.status === 'loading_model' || event.status === 'restarting') {
        if (event.phase === 'download') {
          barActive = true;
          bar.update(event.downloaded_bytes, event.total_bytes, event.downloaded_bytes === event.total_bytes);
          continue;
        }
        if (barActive) {
          bar.finish();
          barActive = false;
        }
      }
      if (!flags.json) say(describe(event));
      if (event.status === 'failed' || event.status === 'draining') return EXIT.failed;
      if (event.status === 'ready' && !flags.watch) return EXIT.ok;
    }
    say(`inferd: the admin stream at ${describeTarget(target)} ended`);
    return EXIT.failed;
  } catch (err) {
    if (barActive) bar.interrupt();
    process.stderr.write(`inferd: ${(err as Error).message}\n`);
    return EXIT.failed;
  } finally {
    ac.abort();
    stream.destroy();
  }
}
