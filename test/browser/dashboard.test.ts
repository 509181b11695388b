/// <reference lib="dom" />
// The dashboard in a real headless Chromium against a real daemon: bring-up with a download
// from a local HTTPS server, ready, a reload seen live, the playground streaming and stopping,
// and a daemon restart on the same port. One browser for the whole file.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import t from 'tap';
import { chromiumExecutable, launchBrowser } from '../helpers/browser.js';
import { spawnDaemon } from '../helpers/child-daemon.js';
import { startDaemon } from '../helpers/daemon.js';
import { demoModelPath } from '../helpers/demo-model.js';
import { sha256Hex, startHttpsServer } from '../helpers/https-server.js';

const RESULTS = join(import.meta.dirname, '..', '..', 'test-results');

if (chromiumExecutable.skip) {
  t.plan(0, `dashboard browser tests: ${chromiumExecutable.skip}`);
} else {
  mkdirSync(RESULTS, { recursive: true });
  let browser: Browser;
  t.before(async () => {
    browser = await launchBrowser();
  });
  t.teardown(() => browser?.close());

  /** A page that records console errors and uncaught exceptions. */
  async function openPage(url: string, width = 1100, height = 900): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width, height } });
    const errors: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(msg.text());
    });
    page.on('pageerror', (err) => errors.push(String(err)));
    await page.goto(url);
    return { page, errors };
  }

  /** Records every value the state line takes, so a test can see states that pass quickly. */
  async function recordStates(page: Page): Promise<void> {
    await page.evaluate(() => {
      const el = document.getElementById('state')!;
      const seen: string[] = [el.dataset.state ?? ''];
      (window as unknown as { seenStates: string[] }).seenStates = seen;
      new MutationObserver(() => {
        if (seen.at(-1) !== el.dataset.state) seen.push(el.dataset.state ?? '');
      }).observe(el, { attributes: true });
    });
  }
  const seenStates = (page: Page) => page.evaluate(() => (window as unknown as { seenStates: string[] }).seenStates);

  t.test('one daemon that downloads its model', async (t) => {
    const model = readFileSync(await demoModelPath('tiny'));
    const https = await startHttpsServer({
      // Paced so the page sees several progress frames before the end.
      '/demo.gguf': { kind: 'file', body: model, throttle: { chunkBytes: Math.ceil(model.length / 8), delayMs: 60 } },
    });
    t.teardown(() => https.close());
    const caDir = mkdtempSync(join(tmpdir(), 'inferd-dash-ca-'));
    t.teardown(() => rmSync(caDir, { recursive: true, force: true }));
    const { daemon, url } = await startDaemon(
      t,
      {
        parallel: 1,
        model: { name: 'demo', sha256: sha256Hex(model), source_url: https.url('/demo.gguf'), size_bytes: model.length },
        ca_file: await https.writeCaFile(caDir),
        pull_allow_private: true,
      },
      { start: false },
    );
    const { page, errors } = await openPage(`${url}/`);
    t.teardown(() => page.close());

    t.test('the page loads, follows the download to 100 % and shows ready', async (t) => {
      await page.locator('#conn[data-conn=live]').waitFor();
      await recordStates(page);
      await daemon.start();
      await page.locator('#state[data-state=ready]').waitFor();
      t.equal(await page.locator('#dl-bar').evaluate((el) => (el as HTMLProgressElement).value), 100, 'progress bar at 100 %');
      t.match(await page.locator('#dl-text').textContent(), /^100 % · .*of/, 'bytes and percent shown');
      t.ok((await seenStates(page)).includes('loading_model'), 'loading was shown before ready');
      t.equal(await page.locator('#state').textContent(), 'Ready');
      t.equal(await page.locator('#steps li[data-s=done]').count(), 4, 'download, verify, mmap and kv_cache done');
      await page.locator('#m-sha', { hasText: sha256Hex(model) }).waitFor();
      t.match(await page.locator('#m-name').textContent(), /^inferd-demo/, 'model card filled');
      t.same(errors, [], 'no console errors');
    });

    t.test('a reload moves the state through restarting to ready', async (t) => {
      await recordStates(page);
      await page.locator('#reload-open').click();
      await page.locator('#reload-confirm').click();
      await page.waitForFunction(() => {
        const seen = (window as unknown as { seenStates: string[] }).seenStates;
        return seen.includes('restarting') && seen.at(-1) === 'ready';
      });
      const states = await seenStates(page);
      t.ok(states.indexOf('restarting') < states.lastIndexOf('ready'), `states seen: ${states.join(' → ')}`);
      t.match(await page.locator('#timeline').textContent(), /Restarting/, 'the timeline has the reload');
    });

    t.test('the playground streams tokens and Stop frees the slot', async (t) => {
      await page.fill('#prompt', 'Tell me about the admin socket');
      // Greedy decoding loops in the demo model, so this runs until stopped.
      await page.fill('#temperature', '0');
      await page.fill('#max-tokens', '4000');
      await page.click('#send');
      await page.waitForFunction(() => (document.getElementById('reply')!.textContent ?? '').length > 40);
      await page.locator('#l-busy', { hasText: '1' }).waitFor();
      t.equal(daemon.gate.admission.active, 1, 'the daemon holds the slot while streaming');
      await page.screenshot({ path: join(RESULTS, 'dashboard-desktop.png') });
      await page.click('#stop');
      await page.locator('#l-busy', { hasText: '0' }).waitFor();
      t.equal(daemon.gate.admission.active, 0, 'the slot is free after Stop');
      t.match(await page.locator('#play-stats').textContent(), /TTFT \d+ ms · [\d.]+ tokens\/s · stopped/, 'TTFT and tokens/s of the request');
      t.same(errors, [], 'still no console errors');
    });

    t.test('fits a 360 px wide screen', async (t) => {
      const { page: phone } = await openPage(`${url}/`, 360, 740);
      t.teardown(() => phone.close());
      await phone.locator('#state[data-state=ready]').waitFor();
      await phone.locator('#l-total', { hasText: '1' }).waitFor();
      const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      t.ok(overflow <= 0, `no horizontal scrolling (overflow ${overflow} px)`);
      await phone.screenshot({ path: join(RESULTS, 'dashboard-360.png'), fullPage: true });
    });
  });

  t.test('after a daemon restart on the same port the page shows the new boot and catches up', async (t) => {
    const args = ['--threads', '1', '--model', await demoModelPath('tiny')];
    const first = await spawnDaemon(t, args);
    const port = new URL(first.url).port;
    const { page } = await openPage(`${first.url}/`);
    t.teardown(() => page.close());
    await page.locator('#state[data-state=ready]').waitFor();
    const oldBoot = await page.locator('#boot').textContent();
    const t0 = Date.now();
    first.child.kill('SIGTERM');
    await first.exited;
    t.comment(`first daemon stopped in ${Date.now() - t0} ms`);
    await page.locator('#conn[data-conn=reconnecting]').waitFor();
    const second = await spawnDaemon(t, [...args, '--port', port]);
    t.equal(second.url, first.url, 'same address');
    t.comment(`second daemon listening after ${Date.now() - t0} ms`);
    await page.locator('#conn[data-conn=restarted]').waitFor();
    t.comment(`page saw the restart after ${Date.now() - t0} ms`);
    const newBoot = await page.locator('#boot').textContent();
    t.not(newBoot, oldBoot, `new boot ${newBoot} replaces ${oldBoot}`);
    await page.locator('#state[data-state=ready]').waitFor();
    t.match(await page.locator('#timeline').textContent(), /Daemon restarted \(boot [0-9a-f]+\)/, 'the timeline marks the restart');
    // The model card is cleared on a new boot; the new daemon's load stream fills it again.
    await page.locator('#m-name', { hasText: /^inferd-demo/ }).waitFor();
    await page.locator('#l-total', { hasText: '1' }).waitFor();
    await page.locator('#conn[data-conn=live]').waitFor({ timeout: 15_000 });
    t.pass('the page caught up: model card, load and a live connection');
    second.child.kill('SIGTERM');
    await second.exited;
  });
}
