// Headless Debian Chromium through playwright-core (no browser download: the executable is the
// one apt installs). The flags keep Chromium off the network, which is closed here. Playwright
// gives each launch a fresh temporary profile and removes it on close.
import { chromium, type Browser } from 'playwright-core';
import { requireExecutable } from './e2e.js';

export const chromiumExecutable = requireExecutable('chromium');

export async function launchBrowser(): Promise<Browser> {
  const executablePath = chromiumExecutable.path;
  if (!executablePath) throw new Error('chromium is not installed');
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
