/// <reference lib="dom" />
// The dashboard in headless Chromium against a daemon that requires API keys: the page asks for
// a key, keeps it in sessionStorage only, follows its streams with single-use stream tickets,
// and says in words why a wrong key was refused. The same daemon and browser then serve the
// checks of the quality bullets: JSON-schema output in the playground, keyboard-only use,
// aria-live announcements, the light and dark schemes, a 360 px screen and the asset budget.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import t from 'tap';
import { chromiumExecutable, launchBrowser } from '../helpers/browser.js';
import { startDaemon } from '../helpers/daemon.js';

const RESULTS = join(import.meta.dirname, '..', '..', 'test-results');
const ADMIN_KEY = 'dash-admin-key-0123456789abcdef';
const WRONG_KEY = 'not-the-key-0123456789abcdef';
const ASSET_BUDGET = 150 * 1024;

if (chromiumExecutable.skip) {
  t.plan(0, `dashboard key browser tests: ${chromiumExecutable.skip}`);
} else {
  mkdirSync(RESULTS, { recursive: true });
  let browser: Browser;
  t.before(async () => {
    browser = await launchBrowser();
  });
  t.teardown(() => browser?.close());

  interface Opened {
    context: BrowserContext;
    page: Page;
    errors: string[];
    /** Every request the page made: method, URL, and whether it carried an Authorization header. */
    requests: Array<{ method: string; url: string; auth: boolean }>;
  }

  /** A page in a fresh context (its own storage), recording console errors and requests. */
  async function openPage(url: string, options: { width?: number; height?: number } = {}): Promise<Opened> {
    const context = await browser.newContext({ viewport: { width: options.width ?? 1100, height: options.height ?? 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    const requests: Opened['requests'] = [];
    page.on('console', (msg) => {
      // A refused request is logged by Chromium itself ("Failed to load resource: … 401");
      // that is the daemon answering as it should, not a fault of the page.
      if (msg.type() === 'error' && !/status of 40[13]/.test(msg.text())) errors.push(msg.text());
    });
    page.on('pageerror', (err) => errors.push(String(err)));
    page.on('request', (request) => {
      requests.push({ method: request.method(), url: request.url(), auth: request.headers().authorization !== undefined });
    });
    await page.goto(url);
    return { context, page, errors, requests };
  }

  /** Every text the aria-live region takes from now on. */
  async function recordAnnouncements(page: Page): Promise<void> {
    await page.evaluate(() => {
      const el = document.getElementById('announce')!;
      const said: string[] = [];
      (window as unknown as { said: string[] }).said = said;
      new MutationObserver(() => said.push(el.textContent ?? '')).observe(el, { childList: true, characterData: true, subtree: true });
    });
  }
  const announcements = (page: Page) => page.evaluate(() => (window as unknown as { said: string[] }).said);
  const activeId = (page: Page) => page.evaluate(() => document.activeElement?.id || document.activeElement?.className || '');

  t.test('a daemon that requires keys', async (t) => {
    const { daemon, url } = await startDaemon(t, { parallel: 1, api_keys: [{ key: ADMIN_KEY, scope: 'admin' }] });
    const { context, page, errors, requests } = await openPage(`${url}/`);
    t.teardown(() => context.close());

    t.test('the page asks for a key, refuses a wrong one in words, and reaches ready with a good one', async (t) => {
      await page.locator('#conn[data-conn=key]').waitFor();
      t.ok(await page.locator('#key').isVisible(), 'the key field is shown');
      t.equal(await activeId(page), 'key', 'and focused');
      t.notOk(await page.locator('#key-error').isVisible(), 'no error before a key was sent');

      await page.fill('#key', WRONG_KEY);
      await page.press('#key', 'Enter');
      const error = page.locator('#key-error');
      await error.waitFor();
      const text = (await error.textContent()) ?? '';
      t.match(text, /^The daemon refused this key: invalid API key$/, `a sentence: ${text}`);
      t.notMatch(text, /[{}"]|unauthorized|\bat\s+\S+:\d+/, 'no raw JSON, error codes or stack');
      t.equal(await page.evaluate(() => sessionStorage.getItem('inferd.key')), null, 'the refused key is forgotten');
      await page.screenshot({ path: join(RESULTS, 'dashboard-key-refused.png') });

      await page.fill('#key', ADMIN_KEY);
      await page.press('#key', 'Enter');
      await page.locator('#state[data-state=ready]').waitFor();
      await page.locator('#conn[data-conn=live]').waitFor();
      await page.locator('#l-total', { hasText: '1' }).waitFor();
      t.notOk(await page.locator('#key-form').isVisible(), 'the key form is gone');
      t.notOk(await error.isVisible(), 'and so is the error');
      t.same(errors, [], 'no console errors');
    });

    t.test('the key lives in sessionStorage only', async (t) => {
      const stored = await page.evaluate(() => ({
        session: sessionStorage.getItem('inferd.key'),
        local: localStorage.length,
        cookie: document.cookie,
      }));
      t.equal(stored.session, ADMIN_KEY, 'sessionStorage holds it');
      t.equal(stored.local, 0, 'localStorage is empty');
      t.equal(stored.cookie, '', 'no cookie');
      t.same(await context.cookies(), [], 'the browser holds no cookie for the daemon');
      t.notOk(requests.some((r) => r.url.includes(ADMIN_KEY)), 'the key never appears in a URL');
    });

    t.test('EventSource streams use single-use stream tickets', async (t) => {
      const tickets = requests.filter((r) => r.method === 'POST' && new URL(r.url).pathname === '/admin/stream-ticket');
      t.ok(tickets.length >= 2, `${tickets.length} tickets asked for`);
      t.ok(tickets.every((r) => r.auth), 'each with the key in the Authorization header');
      for (const path of ['/admin/status', '/admin/load']) {
        const opened = requests.filter((r) => r.method === 'GET' && new URL(r.url).pathname === path && new URL(r.url).searchParams.has('ticket'));
        t.ok(opened.length >= 1, `${path} was opened with ?ticket=`);
      }
      // Tickets are single-use: the page must ask for a new one per stream.
      const used = requests.map((r) => new URL(r.url).searchParams.get('ticket')).filter((x): x is string => x !== null);
      t.equal(new Set(used).size, used.length, 'no ticket used twice');
    });

    t.test('a page reload keeps the key for this tab; a new tab asks again', async (t) => {
      await page.reload();
      await page.locator('#state[data-state=ready]').waitFor();
      t.notOk(await page.locator('#key-form').isVisible(), 'no key asked after a reload');
      const other = await openPage(`${url}/`);
      t.teardown(() => other.context.close());
      await other.page.locator('#conn[data-conn=key]').waitFor();
      t.pass('another tab (its own session) asks for the key');
    });

    t.test('the playground with a JSON schema streams valid JSON that matches it', async (t) => {
      const schema = {
        type: 'object',
        properties: { answer: { enum: ['yes', 'no', 'maybe'] }, sure: { type: 'boolean' }, count: { type: 'integer' } },
        required: ['answer', 'sure', 'count'],
        additionalProperties: false,
      };
      await page.fill('#prompt', 'Is the admin socket ready?');
      await page.fill('#max-tokens', '200');
      await page.fill('#temperature', '0.8');
      await page.click('#schema-box summary');
      await page.fill('#schema', JSON.stringify(schema));
      await page.evaluate(() => {
        // Count the updates of the reply, to see it stream in pieces.
        const reply = document.getElementById('reply')!;
        const w = window as unknown as { replyUpdates: number };
        w.replyUpdates = 0;
        new MutationObserver(() => (w.replyUpdates += 1)).observe(reply, { childList: true, characterData: true, subtree: true });
      });
      await page.click('#send');
      await page.locator('#play-stats', { hasText: /ended|stopped|failed/ }).waitFor();
      t.match(await page.locator('#play-stats').textContent(), /TTFT \d+ ms · [\d.]+ tokens\/s · \d+ tokens · ended: stop/, 'finished normally');
      const text = (await page.locator('#reply').textContent()) ?? '';
      let reply: unknown;
      t.doesNotThrow(() => (reply = JSON.parse(text)), `the reply is JSON: ${text}`);
      const value = reply as Record<string, unknown>;
      t.same(Object.keys(value ?? {}).sort(), ['answer', 'count', 'sure'], 'exactly the schema properties');
      t.ok(['yes', 'no', 'maybe'].includes(value.answer as string), `answer ${String(value.answer)} is in the enum`);
      t.type(value.sure, 'boolean');
      t.ok(Number.isInteger(value.count), `count ${String(value.count)} is an integer`);
      t.ok(await page.evaluate(() => (window as unknown as { replyUpdates: number }).replyUpdates) > 1, 'the reply arrived in pieces');
      const chat = requests.filter((r) => r.method === 'POST' && new URL(r.url).pathname === '/v1/chat/completions');
      t.equal(chat.length, 1, 'sent through /v1/chat/completions');
      t.ok(chat[0]?.auth, 'with the key');
      t.equal(daemon.gate.admission.active, 0, 'the slot is free again');
      await page.fill('#schema', '');
      await page.click('#schema-box summary');
    });

    t.test('keyboard only: skip link, playground with Stop, reload with confirmation, Escape cancels', async (t) => {
      // A fresh load (the key stays in this tab), so Tab starts at the top of the page.
      await page.reload();
      await page.locator('#state[data-state=ready]').waitFor();
      await recordAnnouncements(page);
      await page.keyboard.press('Tab');
      t.equal(await activeId(page), 'skip', 'Tab reaches the skip link first');
      await page.keyboard.press('Enter');
      await page.keyboard.press('Tab');
      t.equal(await activeId(page), 'prompt', 'the skip link leads to the message box');
      await page.keyboard.press('Control+A');
      await page.keyboard.type('Tell me about the admin socket');
      await page.keyboard.press('Tab');
      t.equal(await activeId(page), 'max-tokens');
      await page.keyboard.press('Control+A');
      await page.keyboard.type('4000');
      await page.keyboard.press('Tab');
      t.equal(await activeId(page), 'temperature');
      await page.keyboard.press('Control+A');
      // Greedy decoding loops in the demo model, so this runs until stopped.
      await page.keyboard.type('0');
      await page.keyboard.press('Tab'); // the JSON-schema disclosure
      await page.keyboard.press('Tab');
      t.equal(await activeId(page), 'send', 'Send is next');
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => (document.getElementById('reply')!.textContent ?? '').length > 40);
      // The load panel updates on its own clock: until it has shown the busy slot, its "0" is stale.
      await page.locator('#l-busy', { hasText: '1' }).waitFor();
      await page.keyboard.press('Tab');
      t.equal(await activeId(page), 'stop', 'Stop is reachable while the reply streams');
      await page.keyboard.press('Enter');
      await page.locator('#play-stats', { hasText: 'stopped' }).waitFor();
      await page.locator('#l-busy', { hasText: '0' }).waitFor();
      t.equal(daemon.gate.admission.active, 0, 'Stop freed the slot');

      const reloads = () => requests.filter((r) => r.method === 'POST' && new URL(r.url).pathname === '/admin/reload').length;
      await page.focus('#reload-open');
      await page.keyboard.press('Enter');
      t.ok(await page.locator('#reload-dialog').isVisible(), 'Enter opens the confirmation');
      t.equal(await page.evaluate(() => document.activeElement?.textContent), 'Cancel', 'Cancel has the focus, not Reload');
      await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      await page.locator('#state[data-state=restarting]').waitFor();
      await page.locator('#state[data-state=ready]').waitFor();
      t.equal(reloads(), 1, 'one reload sent');

      await page.focus('#reload-open');
      await page.keyboard.press('Enter');
      await page.keyboard.press('Escape');
      t.notOk(await page.locator('#reload-dialog').isVisible(), 'Escape closes the confirmation');
      await new Promise((r) => setTimeout(r, 300));
      t.equal(reloads(), 1, 'and reloads nothing, even after an earlier confirmation');

      const said = await announcements(page);
      t.ok(said.includes('Reply stopped'), 'the stopped reply was announced');
      t.ok(said.some((s) => s.startsWith('Restarting')) && said.includes('Ready'), `the reload was announced: ${said.join(' | ')}`);
      t.equal(await page.locator('#announce').getAttribute('aria-live'), 'polite', 'through a polite live region');
      t.equal(await page.locator('#play-stats').getAttribute('aria-live'), 'polite', 'the request figures are announced too');
      t.same(errors, [], 'no console errors');
    });

    t.test('light and dark schemes follow the system setting', async (t) => {
      const colors = async () =>
        page.evaluate(() => {
          const body = getComputedStyle(document.body);
          const card = getComputedStyle(document.querySelector('.card')!);
          return { bg: body.backgroundColor, fg: body.color, card: card.backgroundColor, scheme: getComputedStyle(document.documentElement).colorScheme };
        });
      await page.emulateMedia({ colorScheme: 'light' });
      const light = await colors();
      await page.emulateMedia({ colorScheme: 'dark' });
      const dark = await colors();
      await page.screenshot({ path: join(RESULTS, 'dashboard-dark.png') });
      await page.emulateMedia({ colorScheme: 'light' });
      t.equal(light.bg, 'rgb(246, 247, 249)', 'light background');
      t.equal(dark.bg, 'rgb(21, 24, 28)', 'dark background');
      t.not(light.fg, dark.fg, 'the text colour changes with the scheme');
      t.not(light.card, dark.card, 'and so do the cards');
      t.equal(light.scheme, 'light dark', 'form controls follow the scheme too');
    });

    t.test('a 360 px screen: no horizontal scrolling, with the key form and its error shown', async (t) => {
      const phone = await openPage(`${url}/`, { width: 360, height: 740 });
      t.teardown(() => phone.context.close());
      await phone.page.locator('#conn[data-conn=key]').waitFor();
      await phone.page.fill('#key', WRONG_KEY);
      await phone.page.press('#key', 'Enter');
      await phone.page.locator('#key-error').waitFor();
      const width = await phone.page.evaluate(() => document.documentElement.scrollWidth);
      t.ok(width <= 360, `scrollWidth ${width} <= 360 with the key form`);
      await phone.page.fill('#key', ADMIN_KEY);
      await phone.page.press('#key', 'Enter');
      await phone.page.locator('#state[data-state=ready]').waitFor();
      await phone.page.click('#schema-box summary');
      await phone.page.click('#reload-open');
      const open = await phone.page.evaluate(() => document.documentElement.scrollWidth);
      t.ok(open <= 360, `scrollWidth ${open} <= 360 with the schema box and the reload dialog open`);
      await phone.page.screenshot({ path: join(RESULTS, 'dashboard-360-dialog.png'), fullPage: true });
      await phone.page.keyboard.press('Escape');
    });

    t.test('what the browser downloads for the page stays under 150 KB', async (t) => {
      const fresh = await browser.newContext();
      t.teardown(() => fresh.close());
      const p = await fresh.newPage();
      const sizes = new Map<string, number>();
      const origins = new Set<string>();
      const bodies: Promise<void>[] = [];
      p.on('request', (request) => void origins.add(new URL(request.url()).origin));
      p.on('response', (response) => {
        // The page's own files (document, scripts, styles, images), not its endless streams.
        if (!['document', 'script', 'stylesheet', 'image', 'font'].includes(response.request().resourceType())) return;
        bodies.push(response.body().then((b) => void sizes.set(new URL(response.url()).pathname, b.length)));
      });
      await p.goto(`${url}/`);
      await p.waitForLoadState('load');
      await Promise.all(bodies);
      const total = [...sizes.values()].reduce((a, b) => a + b, 0);
      t.ok(sizes.has('/app.js') && sizes.has('/vendor/uplot.js'), `page files seen: ${[...sizes.keys()].join(', ')}`);
      t.ok(total < ASSET_BUDGET, `${total} bytes < ${ASSET_BUDGET}`);
      t.same([...origins], [new URL(url).origin], 'nothing from another origin (no CDN)');
    });
  });
}
