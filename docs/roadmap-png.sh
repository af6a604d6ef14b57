#!/bin/sh
# Draws the README's road map from the demo: a fresh SQLite database, the demo seeded, the road
# map of its inspection drawn in-process (resvg, as the plan's DOCX draws it) with the machine's
# Chinese font (fonts-noto-cjk, fonts-wqy-zenhei or the like) into docs/roadmap.png. Arguments
# go to `rectrack dev roadmap`: `--chromium chromium` draws it through headless Chromium.
set -eu
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export RECTRACK_DATABASE_URL="sqlite://$dir/demo.db?mode=rwc"
cargo run -q -- seed --demo
cargo run -q -- dev roadmap --inspection 1 --output docs/roadmap.png "$@"
