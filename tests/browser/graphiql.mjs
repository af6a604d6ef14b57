// GraphiQL with the network off: loads /graphql from rectrack alone, runs `{ me { role } }`
// with the development token its headers editor holds, shows the answer, and its schema
// explorer shows the documented schema (a finding's description, read by introspection).
//   node graphiql.mjs http://127.0.0.1:PORT screenshot.png
import { open, report } from './browser.mjs';

const [base, screenshot] = process.argv.slice(2);
const { browser, context, blocked } = await open([base]);
const page = await context.newPage();
const errors = [];
page.on('pageerror', (e) => errors.push(String(e)));
page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
let answer = '';
let explorer = '';
try {
  await page.goto(`${base}/graphql?query=${encodeURIComponent('{ me { role } }')}`);
  await page.waitForSelector('.graphiql-execute-button', { timeout: 20000 });
  await page.click('.graphiql-execute-button');
  await page.waitForFunction(
    () => (document.querySelector('.result-window')?.textContent || '').includes('ADMIN'),
    null,
    { timeout: 20000 },
  );
  answer = await page.locator('.result-window').textContent();
  await page.click('[aria-label="Show Documentation Explorer"]');
  await page.waitForSelector('.graphiql-doc-explorer', { timeout: 20000 });
  await page.getByText('Query', { exact: true }).first().click();
  await page.getByText('findings', { exact: true }).first().click();
  await page.waitForFunction(
    () => (document.querySelector('.graphiql-doc-explorer')?.textContent || '').includes('The findings within the caller'),
    null,
    { timeout: 20000 },
  );
  explorer = (await page.locator('.graphiql-doc-explorer').textContent()).slice(0, 200);
} catch (e) {
  errors.push(String(e));
}
await page.screenshot({ path: screenshot, fullPage: true });
await browser.close();
report({
  ok: answer.includes('"role": "ADMIN"') && explorer.includes('findings') && blocked.length === 0,
  answer, explorer, blocked, errors,
});
