// Shared by the browser checks: Debian's Chromium, headless, with the network cut off except
// for the addresses a check allows; every other request is refused and recorded.
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export async function open(allowed, options = {}) {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  const blocked = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (allowed.some((prefix) => url.startsWith(prefix))) {
      return route.fallback();
    }
    blocked.push(url);
    return route.abort('internetdisconnected');
  });
  return { browser, context, blocked };
}

export function report(result) {
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(result.ok ? 0 : 1);
}
