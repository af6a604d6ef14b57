// A published bulletin as the public reads and prints it: the page and the index load from
// rectrack alone (nothing else is fetched), the print style hides navigation and sets A4, and
// a screenshot of the page is kept as the run's artifact.
//   node bulletin.mjs http://127.0.0.1:PORT BULLETIN_ID SCREENSHOT.png
import { open, report } from './browser.mjs';

const [api, id, shot] = process.argv.slice(2);
const { browser, context, blocked } = await open([api]);
const page = await context.newPage();
const failed = [];
page.on('requestfailed', (r) => failed.push(r.url()));
await page.goto(`${api}/public/bulletins`);
const listed = await page.$$eval('ol.index li a', (links) => links.map((a) => a.getAttribute('href')));
await page.click(`a[href="/public/bulletins/${id}"]`);
await page.waitForURL(`${api}/public/bulletins/${id}`);
const screen = await page.evaluate(() => ({
  title: document.querySelector('h1')?.textContent,
  sections: [...document.querySelectorAll('h2')].map((h) => h.textContent),
  nav: getComputedStyle(document.querySelector('nav')).display,
}));
await page.screenshot({ path: shot, fullPage: true });
await page.emulateMedia({ media: 'print' });
const print = await page.evaluate(() => ({
  nav: getComputedStyle(document.querySelector('nav')).display,
  fontSize: getComputedStyle(document.body).fontSize,
}));
// Printing to PDF lays the page out on A4 with the page style's margins.
const pdf = await page.pdf({ preferCSSPageSize: true });
await browser.close();
report({
  ok: blocked.length === 0 && failed.length === 0 && listed.includes(`/public/bulletins/${id}`)
    && screen.nav !== 'none' && print.nav === 'none' && pdf.length > 10000,
  listed, screen, print, pdfBytes: pdf.length, blocked, failed,
});
