#!/usr/bin/env bash
# Exchange of a large unit (issue 43): a bundle of a unit with FINDINGS findings (2,000 by
# default) and FILES evidence files of FILE_MB MB of random bytes (250 × 2 MB = 500 MB) spread
# over as many ledger entries, written at the unit by `rectrack exchange export` and imported at
# an office by `rectrack exchange import`, both command lines under /usr/bin/time -v. Reports the
# bundle's size, each command's wall time and peak resident memory (VmHWM), and the office's
# rows and evidence files afterwards. Both instances on SQLite files of their own.
# Figures: docs/BENCHMARKS.md ("Exchange: 2,000 findings, 500 MB of evidence").
#
#   bench/exchange.sh                               # release build, 2,000 findings, 250 × 2 MB
#   FILES=50 FILE_MB=2 bench/exchange.sh            # a smaller bundle (memory should not change)
#   BIN=target/debug/rectrack BUILD=0 bench/exchange.sh   # another binary, not rebuilt
#
# The unit is the demo unit (市委统战部, ZJTZB: `rectrack seed --demo` on both sides, so that the
# office knows its departments by code); its inspection grows to FINDINGS findings by the ledger
# import (`rectrack import --as-new --historical`: audited as any import, so that the bundle
# carries them; historical, so that closed findings keep their status),
# and the evidence is uploaded through GraphQL's multipart upload to the unit's server, as a
# person's browser would. Peers are registered through GraphQL with `rectrack token` tokens.
# Needs python3, curl and /usr/bin/time; about 3 GB free under bench/results.
set -euo pipefail
cd "$(dirname "$0")/.."
FINDINGS=${FINDINGS:-2000}
FILES=${FILES:-250}
FILE_MB=${FILE_MB:-2}
PORT=${PORT:-18960}
BIN=${BIN:-target/release/rectrack}
for tool in python3 curl /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "$tool is needed"; exit 1; }
done
[ "${BUILD:-1}" = 1 ] && cargo build --release --quiet
BIN=$(realpath "$BIN")
STAMP=$(date +%Y%m%d-%H%M%S)
R=$PWD/bench/results/exchange-$STAMP
mkdir -p "$R/unit" "$R/office"
export RECTRACK_JWT_SECRET="bench-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export RUST_LOG=${RUST_LOG:-warn}

# unit|office ARGS...: the binary against that side's database and data directory.
side() {
  local who=$1
  shift
  RECTRACK_DATABASE_URL="sqlite://$R/$who/rectrack.db?mode=rwc" RECTRACK_DATA_DIR="$R/$who/data" \
    RECTRACK_DEMO=false "$BIN" "$@"
}
unit() { side unit "$@"; }
office() { side office "$@"; }

PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null || true' EXIT
# serve WHO: that side's server on $PORT, until `stop`.
serve() {
  RECTRACK_DATABASE_URL="sqlite://$R/$1/rectrack.db?mode=rwc" RECTRACK_DATA_DIR="$R/$1/data" \
    RECTRACK_DEMO=false RECTRACK_BIND="127.0.0.1:$PORT" RECTRACK_ENV=production \
    RECTRACK_EVIDENCE_MAX_SIZE=$(((FILE_MB + 1) * 1024 * 1024)) \
    "$BIN" serve >> "$R/$1/server.log" 2>&1 &
  PID=$!
  for _ in $(seq 300); do
    curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && return 0
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.2
  done
  echo "rectrack did not start: $R/$1/server.log"
  exit 1
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=; }
# gql TOKEN QUERY VARIABLES-JSON: the answer's data, or the errors and exit.
gql() {
  python3 - "$PORT" "$1" "$2" "$3" <<'PY'
import json, sys, urllib.request
port, token, query, variables = sys.argv[1:]
req = urllib.request.Request(f"http://127.0.0.1:{port}/graphql",
    data=json.dumps({"query": query, "variables": json.loads(variables)}).encode(),
    headers={"content-type": "application/json", "authorization": f"Bearer {token}"})
body = json.load(urllib.request.urlopen(req))
if body.get("errors"):
    sys.exit(f"GraphQL errors: {body['errors']}")
print(json.dumps(body["data"]))
PY
}
REGISTER='mutation($unit: String!, $id: String!, $key: String!, $name: String!) { registerExchangePeer(unitCode: $unit, instanceId: $id, publicKey: $key, name: $name) { id } }'

# 1. Both sides: the demo data, and an identity each.
unit seed --demo > /dev/null
office seed --demo > /dev/null
UNIT_IDENTITY=$(unit exchange identity --json)
OFFICE_IDENTITY=$(office exchange identity --json)
OFFICE_ID=$(echo "$OFFICE_IDENTITY" | python3 -c 'import json,sys; print(json.load(sys.stdin)["instanceId"])')

# 2. The unit's inspection grows to FINDINGS findings: its ledger exported, its findings
# repeated (one measure each) under new numbers, imported as new rows.
unit export --inspection 1 --format csv -o "$R/demo.csv" > /dev/null
HAVE=$(python3 - "$R/demo.csv" "$R/more.csv" "$FINDINGS" <<'PY'
import csv, sys
source, target, want = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(source, encoding="utf-8-sig", newline="") as f:
    rows = list(csv.reader(f))
header, body = rows[0], rows[1:]
first = {}
for row in body:
    first.setdefault(row[0], row)
have = len(first)
findings = list(first.values())
with open(target, "w", encoding="utf-8-sig", newline="") as f:
    out = csv.writer(f)
    out.writerow(header)
    for n in range(have + 1, want + 1):
        row = list(findings[n % have])
        row[0] = str(n)
        row[1] = f"{row[1]}（{n}）"
        out.writerow(row)
print(have)
PY
)
RECTRACK_IMPORT_MAX_ROWS=$((FINDINGS + 10)) unit import "$R/more.csv" --inspection 1 --as-new --historical > "$R/import-ledger.txt"
UNIT_FINDINGS=$(python3 -c "import sqlite3; print(sqlite3.connect('$R/unit/rectrack.db').execute('SELECT COUNT(*) FROM finding WHERE inspection_id = 1 AND archived_at IS NULL').fetchone()[0])")
echo "unit: $UNIT_FINDINGS findings in inspection 1 ($HAVE from the demo)"

# 3. The unit's server: the office registered as its peer, and the evidence uploaded.
serve unit
TOKEN=$(unit token --sub bench --role admin --ttl 2h)
gql "$TOKEN" "$REGISTER" "{\"unit\": \"ZJTZB\", \"id\": $(echo "$OFFICE_IDENTITY" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["instanceId"]))'), \"key\": $(echo "$OFFICE_IDENTITY" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["publicKey"]))'), \"name\": \"市委巡察办\"}" > /dev/null
UPLOAD_START=$(date +%s.%N)
python3 - "$PORT" "$TOKEN" "$R/unit/rectrack.db" "$FILES" "$FILE_MB" <<'PY'
import json, os, sqlite3, sys, http.client
port, token, db, files, mb = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
findings = [r[0] for r in sqlite3.connect(db).execute(
    "SELECT id FROM finding WHERE inspection_id = 1 AND archived_at IS NULL ORDER BY id")]
query = "mutation($input: AddProgressEntryInput!) { addProgressEntry(input: $input) { id evidence { sha256 } } }"
conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=300)
for n in range(files):
    finding = findings[(n * len(findings)) // files]
    content = b"%PDF-1.4\n" + os.urandom(mb * 1024 * 1024 - 16) + b"\n%%EOF\n"
    operations = json.dumps({"query": query, "variables": {"input": {
        "findingId": str(finding), "content": f"佐证材料 {n + 1}",
        "files": [{"title": f"材料{n + 1}", "file": None}]}}})
    boundary = "rectrackbench" + os.urandom(8).hex()
    parts = []
    def field(name, value, filename=None, kind=None):
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"'
        if filename:
            head += f'; filename="{filename}"\r\nContent-Type: {kind}'
        parts.append(head.encode() + b"\r\n\r\n" + value + b"\r\n")
    field("operations", operations.encode())
    field("map", json.dumps({"0": ["variables.input.files.0.file"]}).encode())
    field("0", content, f"evidence-{n + 1}.pdf", "application/pdf")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    conn.request("POST", "/graphql", body, {
        "authorization": f"Bearer {token}",
        "content-type": f"multipart/form-data; boundary={boundary}"})
    answer = json.loads(conn.getresponse().read())
    if answer.get("errors"):
        sys.exit(f"upload {n + 1}: {answer['errors']}")
PY
UPLOAD_END=$(date +%s.%N)
stop
echo "unit: $FILES evidence files of $FILE_MB MB uploaded in $(python3 -c "print(f'{$UPLOAD_END - $UPLOAD_START:.0f}')") s; evidence store $(du -sm "$R/unit/data/evidence" | cut -f1) MB"

# 4. The office's server: the unit registered as its peer.
serve office
TOKEN=$(office token --sub bench --role admin --ttl 2h)
gql "$TOKEN" "$REGISTER" "{\"unit\": \"ZJTZB\", \"id\": $(echo "$UNIT_IDENTITY" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["instanceId"]))'), \"key\": $(echo "$UNIT_IDENTITY" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["publicKey"]))'), \"name\": \"市委统战部\"}" > /dev/null
stop
sync

# 5. The bundle: written at the unit, imported at the office, each timed.
/usr/bin/time -v -o "$R/export-time.txt" \
  env RECTRACK_DATABASE_URL="sqlite://$R/unit/rectrack.db" RECTRACK_DATA_DIR="$R/unit/data" RECTRACK_DEMO=false \
  "$BIN" exchange export --to "$OFFICE_ID" -o "$R/bundle.zip" > "$R/export.txt"
/usr/bin/time -v -o "$R/import-time.txt" \
  env RECTRACK_DATABASE_URL="sqlite://$R/office/rectrack.db" RECTRACK_DATA_DIR="$R/office/data" RECTRACK_DEMO=false \
  "$BIN" exchange import "$R/bundle.zip" --json > "$R/import.json"

peak() { awk -F': ' '/Maximum resident set size/ { printf "%.0f MB", $2 / 1024 }' "$1"; }
wall() { awk -F': ' '/Elapsed \(wall clock\)/ { print $2 }' "$1"; }
cpu() { awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.1f s user + %.1f s system", u, s }' "$1"; }
{
  echo "exchange benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $BIN"
  echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/ { print $2 }') GB, load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "unit: $UNIT_FINDINGS findings, $FILES evidence files × $FILE_MB MB"
  echo "bundle: $(du -m "$R/bundle.zip" | cut -f1) MB ($(stat -c %s "$R/bundle.zip") bytes)"
  echo
  echo "| command | wall time | CPU | peak RSS |"
  echo "| --- | --- | --- | --- |"
  echo "| exchange export | $(wall "$R/export-time.txt") | $(cpu "$R/export-time.txt") | $(peak "$R/export-time.txt") |"
  echo "| exchange import | $(wall "$R/import-time.txt") | $(cpu "$R/import-time.txt") | $(peak "$R/import-time.txt") |"
  echo
  python3 - "$R/import.json" <<'PY'
import json, sys
said = json.load(open(sys.argv[1]))
counts = ", ".join(f"{k} {v}" for k, v in sorted(said["counts"].items()) if v)
print(f"import: {said['result']}, bundle {said['sequence']}, {said['evidenceFiles']} evidence files, {said['events']} chain events; rows: {counts}")
PY
  echo "office: evidence store $(du -sm "$R/office/data/evidence" | cut -f1) MB"
} | tee "$R/summary.md"
echo "results: $R"
