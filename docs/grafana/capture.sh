#!/usr/bin/env bash
# Makes docs/grafana/preview.svg from live data: starts rectrack (the demo, on a SQLite file in a
# temporary directory) and Debian's Prometheus scraping it every 2 s, sends a few minutes of
# mixed traffic (named queries, writes, refused writes, REST reads, a webhook to a receiver that
# is not there, scheduled backups), then draws the dashboard's panels from Prometheus' answers
# to the dashboard's own queries (docs/grafana/preview.py).
#
#     cargo build && docs/grafana/capture.sh [MINUTES]    # needs: apt-get install prometheus
set -euo pipefail
cd "$(dirname "$0")/../.."
minutes="${1:-5}"
bin="${RECTRACK_BIN:-target/debug/rectrack}"
command -v prometheus >/dev/null || { echo "needs Prometheus: apt-get install prometheus" >&2; exit 1; }
[ -x "$bin" ] || { echo "needs $bin: cargo build" >&2; exit 1; }

work="$(mktemp -d)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
secret="capture-secret-0123456789-abcdefghijklmn"
export RECTRACK_JWT_SECRET="$secret" RECTRACK_DATABASE_URL="sqlite://$work/rectrack.db?mode=rwc"
app=127.0.0.1:18080 prom=127.0.0.1:19090

"$bin" --bind "$app" --data-dir "$work/data" --backup-dir "$work/backups" --backup-every 1m \
  --webhook-allow 127.0.0.1 --webhook-backoff 2s --webhook-backoff-max 10s --webhook-timeout 1s \
  --db-max-connections 4 > "$work/rectrack.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do curl -fs "http://$app/health" >/dev/null && break; sleep 0.5; done

cat > "$work/prometheus.yml" <<EOF
global: { scrape_interval: 2s, evaluation_interval: 2s }
scrape_configs:
  - job_name: rectrack
    static_configs: [{ targets: ["$app"] }]
EOF
prometheus --config.file "$work/prometheus.yml" --storage.tsdb.path "$work/tsdb" \
  --web.listen-address "$prom" > "$work/prometheus.log" 2>&1 &
pids+=($!)

admin="$("$bin" token --sub capture-admin --role admin)"
manager="$("$bin" token --sub capture-manager --role manager --dept ZJTZB)"
python3 - "$app" "$admin" "$manager" "$minutes" <<'EOF'
import json, random, sys, threading, time, urllib.request
app, admin, manager, minutes = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])

def call(token, query, name=None, variables=None):
    body = json.dumps({"query": query, "operationName": name, "variables": variables or {}}).encode()
    request = urllib.request.Request(f"http://{app}/graphql", body, {
        "content-type": "application/json", "authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)

def get(path):
    request = urllib.request.Request(f"http://{app}{path}", headers={"authorization": f"Bearer {admin}"})
    try:
        urllib.request.urlopen(request, timeout=30).read()
    except urllib.error.HTTPError:
        pass

# A webhook to a receiver that is not there: its failures and queue show.
call(admin, "mutation Hook($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { endpoint { id } } }",
     "Hook", {"i": {"url": "http://127.0.0.1:9/hook"}})
end = time.time() + minutes * 60

def reader():
    while time.time() < end:
        shape = random.random()
        if shape < 0.4:
            call(admin, "query Findings($n: Int) { findings(first: $n) { totalCount nodes { id title status } } }",
                 "Findings", {"n": random.choice([5, 20, 50])})
        elif shape < 0.6:
            call(manager, "query Measures { measures(first: 20) { nodes { id content status } } }", "Measures")
        elif shape < 0.8:
            get(random.choice(["/api/v1/inspections/1", "/api/v1/inspections/1/findings", "/api/v1/status"]))
        else:
            call(admin, "query Status { inspection(id: 1) { statusSummary { total closed overdue } } }", "Status")
        time.sleep(random.uniform(0.01, 0.08))

def writer():
    n = 0
    while time.time() < end:
        n += 1
        made = call(manager, "mutation Add($i: CreateFindingInput!) { createFinding(input: $i) { id } }", "Add",
                    {"i": {"inspectionId": "1", "title": f"看板演示问题 {n}", "rectificationType": "IMMEDIATE",
                           "departmentCode": "ZJTZB"}})
        if random.random() < 0.3:  # a stale version: refused with CONFLICT
            found = made.get("data") or {}
            fid = (found.get("createFinding") or {}).get("id", "1")
            call(manager, "mutation Rename($i: UpdateFindingInput!) { updateFinding(input: $i) { id } }", "Rename",
                 {"i": {"id": fid, "version": 99, "title": "过期版本"}})
        time.sleep(random.uniform(0.2, 0.6))

threads = [threading.Thread(target=reader) for _ in range(4)] + [threading.Thread(target=writer)]
for t in threads: t.start()
for t in threads: t.join()
EOF
sleep 5
python3 docs/grafana/preview.py --prometheus "http://$prom" --minutes "$minutes"
echo "docs/grafana/preview.svg drawn from $minutes minutes of traffic"
