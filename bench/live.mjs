// Real-time figures for bench/live: fan-out to many subscribers on one instance, latency from
// a change on instance A to its delivery on instance B, and webhook throughput. Clients are
// the ws package speaking graphql-transport-ws, as graphql-ws does; changes are ledger entries
// added over HTTP. Prints one JSON object.
//
//   node bench/live.mjs URL_A URL_B ADMIN_TOKEN MANAGER_TOKEN SUBSCRIBERS EVENTS LATENCY_RUNS HOOKS
import http from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../tests/browser/package.json', import.meta.url));
const WebSocket = require('ws');

const [urlA, urlB, admin, manager, subs = '1000', events = '50', runs = '200', hooks = '1000'] = process.argv.slice(2);
const SUBSCRIBERS = Number(subs);
const EVENTS = Number(events);
const RUNS = Number(runs);
const HOOKS = Number(hooks);

const gql = async (url, token, query, variables = {}) => {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
};

const FINDINGS = 'query { findings(first: 20) { nodes { id } } }';
const ADD = 'mutation($i: AddProgressEntryInput!) { addProgressEntry(input: $i) { id } }';
const change = (url, finding, n) =>
  gql(url, admin, ADD, { i: { findingId: finding, kind: 'COMMENT', content: `压测记录 ${n}` } });

const SUB = 'subscription { findingChanged { eventId occurredAt finding { id status } } }';

// A socket subscribed to findingChanged; resolves once the subscription is running.
function subscriber(url, token, onEvent) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${token}` } })));
    ws.on('message', (data) => {
      const m = JSON.parse(data);
      if (m.type === 'connection_ack') {
        ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: SUB } }));
        ws.send(JSON.stringify({ type: 'ping' }));
      } else if (m.type === 'pong') {
        resolve(ws);
      } else if (m.type === 'next') {
        onEvent(m.payload.data.findingChanged);
      } else if (m.type === 'error') {
        reject(new Error(JSON.stringify(m)));
      }
    });
    ws.on('close', (code) => code !== 1000 && code !== 1005 && reject(new Error(`closed ${code}`)));
    ws.on('error', reject);
  });
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const report = {};
const findings = (await gql(urlA, admin, FINDINGS)).findings.nodes.map((f) => f.id);

// 1. Fan-out: SUBSCRIBERS sockets on A (half the admin, half a unit's manager, whose events
// are checked by scope), EVENTS changes, every delivery counted.
{
  let delivered = 0;
  let last = 0;
  const sockets = [];
  for (let i = 0; i < SUBSCRIBERS; i += 50) {
    const batch = [];
    for (let j = i; j < Math.min(i + 50, SUBSCRIBERS); j++) {
      batch.push(subscriber(urlA, j % 2 ? manager : admin, () => { delivered += 1; last = performance.now(); }));
    }
    sockets.push(...(await Promise.all(batch)));
  }
  const rss = await (await fetch(`${urlA}/metrics`)).text();
  const started = performance.now();
  for (let n = 0; n < EVENTS; n++) await change(urlA, findings[n % findings.length], n);
  const expected = SUBSCRIBERS * EVENTS;
  const deadline = performance.now() + 120000;
  while (delivered < expected && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const seconds = (last - started) / 1000;
  report.fanout = {
    subscribers: SUBSCRIBERS,
    events: EVENTS,
    deliveries: delivered,
    expected,
    seconds: Number(seconds.toFixed(2)),
    deliveriesPerSecond: Math.round(delivered / seconds),
    eventsPerSecond: Number((EVENTS / seconds).toFixed(1)),
  };
  for (const ws of sockets) ws.close(1000);
  void rss;
}

// 2. Latency across instances: a subscriber on B, one change at a time on A.
{
  let waiting = null;
  const ws = await subscriber(urlB, admin, (event) => waiting && waiting(event));
  const latencies = [];
  for (let n = 0; n < RUNS; n++) {
    const got = new Promise((resolve) => { waiting = resolve; });
    const sent = Date.now();
    await change(urlA, findings[n % findings.length], n);
    const event = await got;
    const received = Date.now();
    // From the change's own time (recorded in its transaction, on the same clock).
    latencies.push(received - Date.parse(event.occurredAt));
    void sent;
  }
  ws.close(1000);
  latencies.sort((a, b) => a - b);
  report.latency = { runs: RUNS, p50_ms: percentile(latencies, 50), p99_ms: percentile(latencies, 99), max_ms: latencies[latencies.length - 1] };
}

// 3. Webhook throughput: a loopback receiver, HOOKS changes made 8 at a time, deliveries
// counted by webhook-id until every one arrived (both instances send).
{
  const ids = new Set();
  let requests = 0;
  let first = 0;
  let last = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      ids.add(req.headers['webhook-id']);
      requests += 1;
      last = performance.now();
      res.writeHead(204).end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/hook`;
  const created = await gql(urlA, admin, 'mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { endpoint { id } } }', { i: { url, eventTypes: ['finding.changed'] } });
  const endpoint = created.createWebhookEndpoint.endpoint.id;
  first = performance.now();
  let n = 0;
  const worker = async () => { while (n < HOOKS) { const k = n++; await change(k % 2 ? urlA : urlB, findings[k % findings.length], k); } };
  await Promise.all(Array.from({ length: 8 }, worker));
  const madeIn = (performance.now() - first) / 1000;
  const deadline = performance.now() + 120000;
  while (ids.size < HOOKS && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const seconds = (last - first) / 1000;
  // The sender's own pace: every delivery queued again at once (a replay), drained.
  const before = requests;
  const replayStart = performance.now();
  const queued = (await gql(urlA, admin, 'mutation($e: ID!) { replayWebhookDeliveries(endpointId: $e) }', { e: endpoint })).replayWebhookDeliveries;
  const drainDeadline = performance.now() + 120000;
  while (requests - before < queued && performance.now() < drainDeadline) await new Promise((r) => setTimeout(r, 20));
  const drained = (last - replayStart) / 1000;
  server.close();
  report.webhooks = {
    changes: HOOKS,
    delivered: ids.size,
    changesMadeInSeconds: Number(madeIn.toFixed(2)),
    lastDeliveredAfterSeconds: Number(seconds.toFixed(2)),
    deliveriesPerSecondAtWriteRate: Math.round(ids.size / seconds),
    replayed: queued,
    replayDrainedInSeconds: Number(drained.toFixed(2)),
    deliveriesPerSecondDraining: Math.round(queued / drained),
  };
}

console.log(JSON.stringify(report));
process.exit(0);
