#!/usr/bin/env bash
# analyzers.html: `xtio-analyze --format html` on a real capture of scripts/workload (one
# xtio-server per handoff mode), the page rendered by
# Debian's headless chromium through chromedriver (html_check.py). Checks:
#   - xtio-analyze writes the page and exits 1 (direct's off-loop writes are findings);
#   - the page is self-contained: no script, nothing to load (src=, url(), http(s) but the SVG
#     namespace);
#   - in the browser: no network request, no console warning or error, every plot's SVG rendered
#     with its axes, tick and axis labels, a legend entry per line, a series per mode in the end
#     to end CDF, each series' colour on screen, and a screenshot that is not blank;
#   - the findings section holds direct's off-loop writes with their evidence;
#   - the babeltrace2 plugin's format="html" writes the same page.
# Usage: html_test.sh TRACE XTIO_ANALYZE SOURCE_DIR PLUGIN_SO
# TRACE: the capture of the fixture workload_trace (workload_trace.sh). Needs chromium,
# chromium-driver and python3-selenium (scripts/install-deps).
set -uo pipefail

if (($# != 4)); then
    echo "usage: $0 TRACE XTIO_ANALYZE SOURCE_DIR PLUGIN_SO" >&2
    exit 2
fi
trace=$1
analyze=$2
source_dir=$3
plugin=$4
readonly step_timeout=300

# shellcheck source=view_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/view_lib.sh"
view_test html_test
for tool in chromium chromedriver; do
    command -v "$tool" >/dev/null ||
        die "$tool is missing: run scripts/install-deps (chromium, chromium-driver)"
done
# Debian's python3, whose python3-selenium is installed, whatever python3 the PATH has first.
/usr/bin/python3 -c 'import selenium' 2>/dev/null ||
    die "python3-selenium is missing: run scripts/install-deps"

# A 1 ms window: each mode runs for tens of ms at 100 requests, so that each has several.
analyze_findings report.html --format html --window 1 --by-connection --by-thread
page=$workdir/report.html
[[ -s $page ]] || die "no page written"

! grep -qi '<script' "$page" || die "the page holds a script"
! grep -qiE 'src=|url\(|@import|https:' "$page" || die "the page refers to something to load"
namespaces=$(grep -o 'http://[^"]*' "$page" | sort -u)
[[ $namespaces == "http://www.w3.org/2000/svg" ]] ||
    die "the page names URLs other than the SVG namespace: $namespaces"
grep -q 'data-kind="off_loop_write"' "$page" || die "no off-loop write among the findings"
grep -q '<table class="evidence">' "$page" || die "the findings have no evidence"
grep -q '<table class="connections">' "$page" || die "--by-connection: no connection table"
grep -q '<table class="loop-threads">' "$page" || die "--by-thread: no loop thread table"

# shellcheck source=../lttng_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lttng_lib.sh"
set_babeltrace "$plugin" # sets babeltrace
# shellcheck disable=SC2154
timeout "$step_timeout" "${babeltrace[@]}" --plugin-path="$(dirname "$plugin")" \
    -c sink.xtio.analyze -p "format=\"html\",output=\"$workdir/plugin.html\",window-ms=1" \
    -p 'by-connection=yes,by-thread=yes' "$trace" >"$workdir/plugin.out" 2>&1 ||
    die "babeltrace2 -c sink.xtio.analyze -p format=\"html\" failed: $(tail -5 "$workdir/plugin.out")"
cmp -s "$page" "$workdir/plugin.html" ||
    die "the plugin's format=\"html\" page differs from xtio-analyze's: diff $page $workdir/plugin.html"

timeout "$step_timeout" /usr/bin/python3 "$source_dir/tests/analyzers/html_check.py" "$page" \
    "$workdir/screenshot.png" 5 || die "the page as chromium renders it (see above)"
echo "html_test: $(wc -c <"$page") bytes of HTML rendered and checked"
