// CORS as a browser enforces it: a page of an allowed origin calls rectrack and reads the
// answer; a page of another origin is refused by the browser. Both pages are served on
// loopback by the test (other ports: other origins), so nothing leaves the machine.
//   node cors.mjs http://127.0.0.1:PORT http://127.0.0.1:PORT2 http://127.0.0.1:PORT3 TOKEN
import { open, report } from './browser.mjs';

const [api, allowedOrigin, otherOrigin, token] = process.argv.slice(2);
const { browser, context, blocked } = await open([api, allowedOrigin, otherOrigin]);
async function call(origin) {
  const page = await context.newPage();
  await page.goto(`${origin}/`);
  const result = await page.evaluate(async ({ api, token }) => {
    try {
      const response = await fetch(`${api}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ me { role } }' }),
      });
      return { status: response.status, body: await response.json() };
    } catch (e) {
      return { refused: String(e) };
    }
  }, { api, token });
  await page.close();
  return result;
}
const allowed = await call(allowedOrigin);
const other = await call(otherOrigin);
await browser.close();
const unexpected = blocked;
report({
  ok: allowed.body?.data?.me?.role === 'ADMIN' && Boolean(other.refused) && unexpected.length === 0,
  allowed, other, unexpected,
});
