#!/usr/bin/python3
"""Renders an HTML report of xtio-analyze in Debian's headless chromium (through chromedriver and
selenium) and checks what a reader would see:
  - the page makes no network request: the browser's performance log holds no request but the
    page's own file:// URL (and data: URLs, which load nothing);
  - the browser logs no console message of level warning or above (a Content-Security-Policy
    violation, which any attempt to load something would be, is one);
  - every plot's SVG is rendered, with non-empty size, its two axes with ticks and labels, a
    legend with an entry per series, and a line per series that covers some area;
  - the screenshot of the page is not blank (many colours), and the screenshot of the end-to-end
    CDF shows the colour of each of its series.
Usage: html_check.py REPORT.html SCREENSHOT.png EXPECTED_SERIES
EXPECTED_SERIES: the number of series the end-to-end CDF must have (one per mode of the trace).
Exit status 0 when every check passes, 1 with the failures on stderr otherwise.
"""
import json
import struct
import sys
import zlib

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

PLOTS = ["cdf-queue_wait", "cdf-end_to_end", "cdf-flush", "cdf-producer_blocked", "cdf-wake",
         "cdf-spool_delay", "cdf-loop_write", "time-p99", "time-rate"]
# The report's series colours (analyzers/core/export_html.c), in order.
COLOURS = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#f0e442"]

failures = []


def fail(message):
    failures.append(message)


def png_pixels(data):
    """The pixels of an 8-bit RGB or RGBA PNG (what chromium writes), as (r, g, b) tuples."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or colour_type not in (2, 6) or interlace:
                raise ValueError("PNG of depth %d, colour type %d, interlace %d: not read here"
                                 % (depth, colour_type, interlace))
            channels = 3 if colour_type == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    pixels = []
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        line = bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:
            for i in range(channels, stride):
                line[i] = (line[i] + line[i - channels]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous))
        elif kind == 3:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - channels] if i >= channels else 0
                b = previous[i]
                c = previous[i - channels] if i >= channels else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 0xFF
        pixels.extend(zip(line[0::channels], line[1::channels], line[2::channels]))
        previous = line
    return pixels


def hex_rgb(colour):
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    report, screenshot, expected_series = sys.argv[1], sys.argv[2], int(sys.argv[3])

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                     "--window-size=1280,1600", "--disable-dev-shm-usage",
                     # No background traffic of the browser's own: only the page's loads count.
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--no-first-run", "--disable-default-apps"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        url = "file://" + report
        driver.get(url)

        # Requests: the page itself only.
        requests = []
        for entry in driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.requestWillBeSent":
                requests.append(message["params"]["request"]["url"])
        if url not in requests:
            fail("the performance log does not show the page's own load (%s): is it on?" % url)
        for request in requests:
            if request != url and not request.startswith("data:"):
                fail("the page made a request: %s" % request)

        # Every plot, with its axes, labels, legend and lines.
        for plot in PLOTS:
            found = driver.find_elements(By.ID, plot)
            if not found:
                fail("plot %s is missing" % plot)
                continue
            svg = found[0]
            if svg.size["width"] < 400 or svg.size["height"] < 200:
                fail("plot %s is rendered %s" % (plot, svg.size))
            for axis in ("g.axis.x", "g.axis.y"):
                if not svg.find_elements(By.CSS_SELECTOR, axis):
                    fail("plot %s has no %s" % (plot, axis))
                elif len(svg.find_elements(By.CSS_SELECTOR, axis + " text.tick")) < 2:
                    fail("plot %s: %s has fewer than 2 tick labels" % (plot, axis))
            labels = [e.text for e in svg.find_elements(By.CSS_SELECTOR, "text.axis-label")]
            if len(labels) != 2 or not all(labels):
                fail("plot %s: axis labels %s" % (plot, labels))
            else:
                # The time axis carries its unit: in its label ("... (s)"), or in its decade
                # ticks ("10 µs") for a latency axis.
                ticks = [e.text for e in svg.find_elements(By.CSS_SELECTOR, "g.axis.x text.tick")]
                if "(s)" not in labels[0] and not any(
                        t.endswith(("ns", "µs", "ms", " s")) for t in ticks):
                    fail("plot %s: its time axis has no unit: label %r, ticks %s"
                         % (plot, labels[0], ticks))
            items = svg.find_elements(By.CSS_SELECTOR, "g.legend g.legend-item")
            lines = svg.find_elements(By.CSS_SELECTOR, "g.series path.line")
            if not items:
                fail("plot %s has an empty legend" % plot)
            if len(items) != len(lines):
                fail("plot %s: %d legend entries for %d lines" % (plot, len(items), len(lines)))
            for line in lines:
                box = driver.execute_script(
                    "var b = arguments[0].getBBox(); return [b.width, b.height];", line)
                if box[0] <= 0 and box[1] <= 0:
                    fail("plot %s: a line covers no area (%s)" % (plot, box))
        e2e = driver.find_elements(By.ID, "cdf-end_to_end")
        if e2e:
            items = e2e[0].find_elements(By.CSS_SELECTOR, "g.legend g.legend-item")
            if len(items) != expected_series:
                fail("cdf-end_to_end has %d series, expected %d" % (len(items), expected_series))

        # The page as a picture: not blank.
        driver.save_screenshot(screenshot)
        with open(screenshot, "rb") as f:
            pixels = png_pixels(f.read())
        colours = len(set(pixels))
        if colours < 16:
            fail("the screenshot has %d colours: blank or nearly" % colours)
        # The end-to-end CDF as a picture: each series' colour is drawn.
        if e2e:
            driver.execute_script("arguments[0].scrollIntoView();", e2e[0])
            counts = {}
            for pixel in png_pixels(e2e[0].screenshot_as_png):
                counts[pixel] = counts.get(pixel, 0) + 1
            for colour in COLOURS[:expected_series]:
                if counts.get(hex_rgb(colour), 0) < 10:
                    fail("the end-to-end CDF shows %d pixels of series colour %s"
                         % (counts.get(hex_rgb(colour), 0), colour))

        # Console: nothing of level warning or above, after everything above ran.
        for entry in driver.get_log("browser"):
            if entry["level"] in ("WARNING", "SEVERE"):
                fail("console %s: %s" % (entry["level"], entry["message"]))
    finally:
        driver.quit()

    for failure in failures:
        print("html_check: FAIL: " + failure, file=sys.stderr)
    if not failures:
        print("html_check: %d plots rendered with axes and legends, no request, no console "
              "message, %d colours in the screenshot" % (len(PLOTS), colours))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
