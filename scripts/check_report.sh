#!/usr/bin/env bash
# Checks DIR/report.html (written by `valley report DIR`) in a real browser:
#
#   1. static: no <script>, <link>, <img>, <iframe>, @import, @font-face or
#      url(); every src/href stays in the page (no scheme, no //host);
#   2. headless Chromium loads it with every host name unresolvable and
#      logs no console message and no failed request;
#   3. the rendered DOM holds one inline <svg> per DIR/figures/*.svg, each in
#      a <figure> with a caption, and at least one compare table; a Claims
#      section with one section per claim figure (DIR/figures/claim_*.svg);
#   4. a screenshot (PNG) is not blank: decoded with the Python standard
#      library, it has many distinct colours and a fair share of non-white
#      pixels.
#
# Installs Debian's chromium if no chromium is on PATH (needs root).
#
# Usage: scripts/check_report.sh DIR [SCREENSHOT.png]   (default DIR/report.png)
set -euo pipefail

if [ $# -lt 1 ]; then
    echo "usage: $0 DIR [SCREENSHOT.png]" >&2
    exit 2
fi
dir="$1"
report="$dir/report.html"
shot="${2:-$dir/report.png}"
if [ ! -f "$report" ]; then
    echo "check_report: $report is missing (run: valley report $dir)" >&2
    exit 2
fi
fail() {
    echo "check_report: FAIL: $*" >&2
    exit 1
}

browser="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$browser" ]; then
    echo "check_report: installing chromium" >&2
    if [ "$(id -u)" -ne 0 ]; then
        fail "chromium is not installed and this is not root: apt-get install -y chromium"
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    browser="$(command -v chromium)"
fi

# 1. Static checks on the file itself.
if grep -Eiq '<(script|link|img|iframe|object|embed)[[:space:]>]|@import|@font-face|url\(' "$report"; then
    fail "$report has a script, link, image, frame, import, font or url(): it must be self-contained"
fi
if grep -Eiq '(src|href|xlink:href)[[:space:]]*=[[:space:]]*["'"'"']?([a-z][a-z0-9+.-]*:|//)' "$report"; then
    fail "$report refers to a resource outside the page: $(grep -Eio '(src|href|xlink:href)[[:space:]]*=[[:space:]]*["'"'"']?([a-z][a-z0-9+.-]*:|//)[^"'"'"' >]*' "$report" | head -3)"
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/check-report.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
url="file://$(cd "$dir" && pwd)/report.html"
flags=(
    --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run
    --disable-extensions --disable-background-networking --disable-sync
    --disable-component-update --disable-default-apps --mute-audio
    "--host-resolver-rules=MAP * ~NOTFOUND"
    --enable-logging=stderr --v=0
    "--user-data-dir=$tmp/profile"
)

# 2. and 3. The DOM after loading, and the browser's log.
"$browser" "${flags[@]}" --dump-dom "$url" >"$tmp/dom.html" 2>"$tmp/dom.log" || fail "chromium --dump-dom failed: $(tail -5 "$tmp/dom.log")"
"$browser" "${flags[@]}" --window-size=1280,4000 --screenshot="$shot" "$url" >"$tmp/shot.out" 2>"$tmp/shot.log" || fail "chromium --screenshot failed: $(tail -5 "$tmp/shot.log")"
if grep -Eh 'CONSOLE|Uncaught|Failed to load resource|net::ERR_' "$tmp/dom.log" "$tmp/shot.log" >"$tmp/errors.log"; then
    fail "browser console errors or failed requests:
$(head -5 "$tmp/errors.log")"
fi

figures=$(find "$dir/figures" -maxdepth 1 -name '*.svg' 2>/dev/null | wc -l)
svgs=$({ grep -o '<svg' "$tmp/dom.html" || true; } | wc -l)
captions=$({ grep -o '<figcaption>' "$tmp/dom.html" || true; } | wc -l)
tables=$({ grep -o '<table class="compare">' "$tmp/dom.html" || true; } | wc -l)
[ "$figures" -ge 1 ] || fail "no figures in $dir/figures"
[ "$svgs" -eq "$figures" ] || fail "the rendered page has $svgs <svg> figures, $dir/figures has $figures"
[ "$captions" -eq "$figures" ] || fail "$captions captions for $figures figures"
# Claims: a Claims section, and one section per claim figure (claim_*.svg).
grep -q '<h2 id="claims">' "$tmp/dom.html" || fail "the rendered page has no Claims section"
claim_figures=$(find "$dir/figures" -maxdepth 1 -name 'claim_*.svg' 2>/dev/null | wc -l)
# `|| true`: a grep that finds nothing (a sweep without claims) must not end the
# script under pipefail without a message.
claim_sections=$({ grep -o '<section id="claim-' "$tmp/dom.html" || true; } | wc -l)
[ "$claim_sections" -eq "$claim_figures" ] || fail "$claim_sections claim sections for $claim_figures claim figures"
[ "$tables" -ge 1 ] || fail "no compare table in the rendered page"

# 4. The screenshot is not blank.
[ -s "$shot" ] || fail "no screenshot written"
python3 - "$shot" <<'PY' || fail "the screenshot looks blank"
import struct, sys, zlib

path = sys.argv[1]
data = open(path, "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, ihdr = 8, b"", None
while pos < len(data):
    (length,) = struct.unpack(">I", data[pos:pos + 4])
    kind = data[pos + 4:pos + 8]
    body = data[pos + 8:pos + 8 + length]
    if kind == b"IHDR":
        ihdr = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT":
        idat += body
    pos += 12 + length
width, height, depth, ctype, _, _, interlace = ihdr
assert depth == 8 and ctype in (2, 6) and interlace == 0, ihdr
bpp = 3 if ctype == 2 else 4
raw = zlib.decompress(idat)
stride = width * bpp
prev = bytearray(stride)
colours, inked, total = set(), 0, 0
i = 0
for y in range(height):
    f = raw[i]
    line = bytearray(raw[i + 1:i + 1 + stride])
    i += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b = prev[x]
        c = prev[x - bpp] if x >= bpp else 0
        if f == 1:
            line[x] = (line[x] + a) & 255
        elif f == 2:
            line[x] = (line[x] + b) & 255
        elif f == 3:
            line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    prev = line
    if y % 4 == 0:
        for x in range(0, stride, 4 * bpp):
            px = bytes(line[x:x + 3])
            colours.add(px)
            total += 1
            inked += px != b"\xff\xff\xff"
share = inked / total
print(f"check_report: screenshot {width}x{height}, {len(colours)} colours, {share:.1%} non-white")
assert len(colours) >= 32 and share >= 0.03
PY

echo "check_report: ok: $report renders; $svgs figures, $tables compare tables, no console errors, no network; screenshot $shot"
