// A subscriber as front ends have one: the graphql-ws library's client (over the ws package),
// authenticating with connectionParams. Usage:
//   node subscriptions.mjs URL FINDING_ID SHORT_TOKEN FRESH_TOKEN BAD_TOKEN
// It subscribes with a token about to expire; when the server closes the socket at expiry
// (4403), the client reconnects with connectionParams evaluated again (a fresh token) and the
// subscription resumes. Meanwhile it changes the finding over HTTP until two events arrived,
// one on each connection. Then a client with a bad token is refused. Prints a JSON report.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, finding, shortToken, freshToken, badToken] = process.argv.slice(2);
const wsUrl = url.replace(/^http/, 'ws') + '/graphql';
const report = { events: [], closed: [], connected: 0, refused: null };

async function retitle(title) {
  const query = 'query($id: ID!) { finding(id: $id) { version } }';
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${freshToken}` };
  const read = await fetch(`${url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables: { id: finding } }) });
  const version = (await read.json()).data.finding.version;
  const mutation = 'mutation($i: UpdateFindingInput!) { updateFinding(input: $i) { id } }';
  await fetch(`${url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query: mutation, variables: { i: { id: finding, version, title } } }) });
}

let calls = 0;
const client = createClient({
  url: wsUrl,
  webSocketImpl: WebSocket,
  lazy: false,
  retryAttempts: 5,
  retryWait: async () => new Promise((r) => setTimeout(r, 200)),
  // Called for every connection: the first gets the short-lived token, later ones a fresh one.
  connectionParams: () => ({ Authorization: `Bearer ${calls++ === 0 ? shortToken : freshToken}` }),
  shouldRetry: () => true,
  on: {
    connected: () => { report.connected += 1; },
    closed: (event) => { report.closed.push(event.code); },
  },
});

const done = new Promise((resolve, reject) => {
  client.subscribe(
    { query: 'subscription($f: FindingFilterInput) { findingChanged(filter: $f) { eventId action finding { id title } } }', variables: { f: {} } },
    {
      next: (value) => {
        report.events.push({ connection: report.connected, ...value.data.findingChanged });
        if (report.events.length >= 2 && report.connected >= 2) resolve();
      },
      error: reject,
      complete: () => {},
    },
  );
});

let n = 0;
const timer = setInterval(() => { retitle(`graphql-ws 客户端修改 ${++n}`).catch(() => {}); }, 400);
const timeout = setTimeout(() => { console.log(JSON.stringify({ ...report, timedOut: true })); process.exit(1); }, 30000);
await done;
clearInterval(timer);
await client.dispose();

// A bad token: the server refuses the connection with 4403, which the client reports.
report.refused = await new Promise((resolve) => {
  const bad = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    connectionParams: { Authorization: `Bearer ${badToken}` },
    on: { closed: (event) => { resolve(event.code); bad.dispose(); } },
  });
});
clearTimeout(timeout);
console.log(JSON.stringify(report));
// The refused client's socket may still be closing; the report is complete.
process.exit(0);
