// Public supervision without JavaScript: a bulletin's page is opened with scripts disabled,
// the feedback form is filled in as a person would (the check question read off its label and
// answered), submitted, and the page that answers shows the receipt code (查询码); the receipt
// page it links to shows the status.
//   node feedback.mjs http://127.0.0.1:PORT BULLETIN_ID TEXT CONTACT
import { open, report } from './browser.mjs';

const [api, id, text, contact] = process.argv.slice(2);
const { browser, context, blocked } = await open([api], { javaScriptEnabled: false });
const page = await context.newPage();
await page.goto(`${api}/public/bulletins/${id}`);
const qr = await page.$$eval('#feedback figure.qr svg', (svgs) => svgs.length);
const question = await page.textContent('label[for="answer"]');
const [, a, b] = question.match(/(\d+)\s*加\s*(\d+)/) || [];
await page.fill('#content', text);
await page.selectOption('#problemNo', { index: 1 });
await page.fill('#senderName', '张三');
await page.fill('#contact', contact);
await page.fill('#answer', String(Number(a) + Number(b)));
await Promise.all([page.waitForNavigation(), page.click('form button[type="submit"]')]);
const posted = { url: page.url(), heading: await page.textContent('h1'), code: await page.textContent('#code') };
await page.click('a[href^="/public/feedback/"]');
const receipt = { code: await page.textContent('#code'), status: await page.textContent('#status') };
await browser.close();
report({
  ok: blocked.length === 0 && qr === 1 && posted.code?.length === 20 && receipt.code === posted.code,
  question, qr, posted, receipt, blocked,
});
