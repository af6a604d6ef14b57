#!/bin/sh
# Draws the README's road map from the demo: a fresh SQLite database, the demo seeded, the road
# map of its inspection drawn through headless Chromium (Debian's `chromium`, with a CJK font
# such as fonts-noto-cjk) into docs/roadmap.png.
set -eu
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export RECTRACK_DATABASE_URL="sqlite://$dir/demo.db?mode=rwc"
cargo run -q -- seed --demo
cargo run -q -- dev roadmap --inspection 1 --output docs/roadmap.png "$@"
