#!/usr/bin/env bash
# Refresh the vendored front-end files from the npm registry, at pinned versions.
# Never point the app at a CDN: mainland networks block many of them.
set -euo pipefail
cd "$(dirname "$0")/.."
HTMX_VERSION=2.0.11          # htmx 4 (npm's latest) breaks the X-CSRFToken header pattern
WEUI_VERSION=2.6.26
QR_SCANNER_VERSION=1.4.2     # used by the scan page only
IDB_VERSION=8.0.3            # IndexedDB with promises: the offline pack and the outbox
PURGECSS_VERSION=8.0.0       # cuts weui.min.css to the rules our templates and scripts use (a tool, not shipped)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fetch() {  # fetch NAME VERSION -> unpacks into $work/NAME
  (cd "$work" && npm pack --silent "$1@$2" >/dev/null && mkdir -p "$1" && tar -xzf "$1"-"$2".tgz -C "$1" --strip-components=1)
}
fetch htmx.org "$HTMX_VERSION"
fetch weui "$WEUI_VERSION"
fetch qr-scanner "$QR_SCANNER_VERSION"
fetch idb "$IDB_VERSION"
npm install --silent --no-audit --no-fund --no-save --prefix "$work/tools" "purgecss@$PURGECSS_VERSION" >/dev/null
mkdir -p static/vendor
cp "$work/htmx.org/dist/htmx.min.js" static/vendor/htmx.min.js
# All of WeUI is ~190 KB (23 KB gzipped) of which Doudi uses a few dozen classes: ship only those rules.
# The settings (what counts as used, the safelist) are in scripts/purgecss.config.cjs; re-run this script
# after adding a WeUI class to a template (tests/test_vendored_css.py fails until then).
"$work/tools/node_modules/.bin/purgecss" --config scripts/purgecss.config.cjs \
  --css "$work/weui/dist/style/weui.min.css" --output "$work/cut/"
cp "$work/cut/weui.min.css" static/vendor/weui.min.css
cp "$work/qr-scanner/qr-scanner.umd.min.js" static/vendor/qr-scanner.umd.min.js
cp "$work/qr-scanner/qr-scanner-worker.min.js" static/vendor/qr-scanner-worker.min.js
cp "$work/idb/build/umd.js" static/vendor/idb.umd.js
python3 scripts/classic_worker.py  # qr-scanner's decoder as a plain worker file (no blob: workers under our CSP)
printf 'htmx.org %s\nweui %s (weui.min.css cut by purgecss %s to the rules templates/ and static/js/ use)\nqr-scanner %s (+ qr-scanner-worker.classic.js made from it)\nidb %s\n' \
  "$HTMX_VERSION" "$WEUI_VERSION" "$PURGECSS_VERSION" "$QR_SCANNER_VERSION" "$IDB_VERSION" > static/vendor/VERSIONS
echo "vendored into static/vendor:"; ls -l static/vendor
