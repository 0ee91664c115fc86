"""Page weight on a slow phone network: the home map and a relic's page.

Loads the demo data into a scratch database on the private cluster, starts the app with
gunicorn on 127.0.0.1 (as bench/zone_check.py does), then opens each page in Debian's
headless Chromium with a slow-4G profile (CDP `Network.emulateNetworkConditions`:
150 ms latency, 1.6 Mbit/s down, 750 kbit/s up) and measures:

- first view (cold cache): requests, bytes transferred (compressed, headers included:
  the sum of CDP `Network.loadingFinished.encodedDataLength`), time to the first marker
  on the map (`.leaflet-marker-icon`, `.leaflet-interactive` or `.marker-cluster`
  visible) and to the network going quiet;
- second view (warm cache, same browser context): the same, plus cache hits.

Targets: the first view of each page is at most 300 KB compressed (issue 6); the
tourists' home map's first view is at most 8 requests and 100 KB (issue 16). The script
prints the figures, what each request of a first view was, and whether each target is
met; it asserts nothing.

    .venv/bin/python bench/page_weight.py [--site VN-HY-DT-000001] [--timeout 60]

Only 127.0.0.1 is contacted (no other host name resolves; any attempt is reported); the
run is bounded (each page load times out, the whole run stays under two minutes).
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from geojson_bbox import sh, start_app

from gis_app.config import private_cluster_url
from gis_app.services import demo, migrations

DB = "heritage_bench_pages"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking",
                 # Nothing but 127.0.0.1 resolves. (Playwright's page.route would do, but
                 # routing turns the HTTP cache off, and the warm view needs it.)
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
SLOW_4G = {"offline": False, "latency": 150,
           "downloadThroughput": 1_600_000 / 8, "uploadThroughput": 750_000 / 8}
MARKER = ".leaflet-marker-icon, .leaflet-interactive, .marker-cluster"
TARGET_BYTES = 300 * 1024
HOME_TARGET_REQUESTS, HOME_TARGET_BYTES = 8, 100 * 1024


@dataclass
class View:
    """What one page view cost on the wire."""

    requests: int = 0
    bytes: int = 0
    cache_hits: int = 0
    first_marker_ms: float | None = None
    quiet_ms: float = 0.0
    by_type: dict[str, int] = field(default_factory=dict)
    urls: list[str] = field(default_factory=list)


class Recorder:
    """Counts requests and encoded bytes from CDP Network events of one page."""

    def __init__(self, cdp) -> None:
        self.view = View()
        self.off_host: list[str] = []
        self._types: dict[str, str] = {}
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.requestServedFromCache", self._cached)
        cdp.on("Network.loadingFinished", self._finished)

    def reset(self) -> View:
        done, self.view = self.view, View()
        return done

    def _sent(self, event: dict) -> None:
        url = event["request"]["url"]
        if not url.startswith("data:"):
            self.view.requests += 1
            self.view.urls.append(url.split("//", 1)[-1].split("/", 1)[-1][:90])
        if not url.startswith(("http://127.0.0.1:", "data:", "about:")):
            self.off_host.append(url)

    def _response(self, event: dict) -> None:
        response = event["response"]
        self._types[event["requestId"]] = event.get("type", "Other")
        if response.get("fromDiskCache") or response.get("fromMemoryCache") \
                or response.get("status") == 304:
            self.view.cache_hits += 1

    def _cached(self, event: dict) -> None:
        self._types.setdefault(event["requestId"], "cache")

    def _finished(self, event: dict) -> None:
        size = int(event.get("encodedDataLength") or 0)
        self.view.bytes += size
        kind = self._types.get(event["requestId"], "Other")
        self.view.by_type[kind] = self.view.by_type.get(kind, 0) + size


def measure(page, recorder: Recorder, url: str, timeout_s: float,
            has_map: bool) -> View:
    recorder.reset()
    page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
    view = recorder.view
    if has_map:
        page.wait_for_selector(MARKER, state="visible", timeout=timeout_s * 1000)
        view.first_marker_ms = page.evaluate("() => performance.now()")
    page.wait_for_load_state("networkidle", timeout=timeout_s * 1000)
    view.quiet_ms = page.evaluate("() => performance.now()")
    return recorder.reset()


def run_browser(base: str, pages: list[tuple[str, str]], timeout_s: float) -> dict:
    from playwright.sync_api import sync_playwright

    results: dict[tuple[str, str], View] = {}
    off_host: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for label, path in pages:
                context = browser.new_context(
                    viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                    locale="vi-VN")
                page = context.new_page()
                cdp = context.new_cdp_session(page)
                cdp.send("Network.enable")
                cdp.send("Network.emulateNetworkConditions", SLOW_4G)
                recorder = Recorder(cdp)
                for view in ("first (cold)", "second (warm)"):
                    results[(label, view)] = measure(page, recorder, base + path, timeout_s,
                                                     has_map=True)
                off_host += recorder.off_host
                context.close()
        finally:
            browser.close()
    return {"views": results, "off_host": off_host}


def kb(n: int) -> str:
    return f"{n / 1024:,.1f}"


def print_table(views: dict[tuple[str, str], View]) -> bool:
    header = (f"{'page':<22} {'view':<14} {'requests':>8} {'KB sent':>9} {'cache hits':>10} "
              f"{'1st marker ms':>13} {'quiet ms':>9}")
    print(header)
    print("-" * len(header))
    ok = True
    for (label, view), v in views.items():
        marker = f"{v.first_marker_ms:,.0f}" if v.first_marker_ms is not None else "–"
        print(f"{label:<22} {view:<14} {v.requests:>8} {kb(v.bytes):>9} {v.cache_hits:>10} "
              f"{marker:>13} {v.quiet_ms:>9,.0f}")
    print()
    for (label, view), v in views.items():
        if view.startswith("first"):
            parts = ", ".join(f"{k} {kb(b)}" for k, b in sorted(v.by_type.items(),
                                                                 key=lambda kv: -kv[1]))
            met = v.bytes <= TARGET_BYTES
            ok = ok and met
            print(f"{label}: first view {kb(v.bytes)} KB compressed "
                  f"(target <= {kb(TARGET_BYTES)} KB): {'met' if met else 'NOT met'}"
                  f"  [{parts}]")
            if label.startswith("/ "):
                home = v.requests <= HOME_TARGET_REQUESTS and v.bytes <= HOME_TARGET_BYTES
                ok = ok and home
                print(f"{label}: first view {v.requests} requests, {kb(v.bytes)} KB "
                      f"(tourist goal <= {HOME_TARGET_REQUESTS} requests, <= "
                      f"{kb(HOME_TARGET_BYTES)} KB): {'met' if home else 'NOT met'}")
                for n, u in enumerate(v.urls, start=1):
                    print(f"    {n:>2}. /{u}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--site", default="VN-HY-DT-000001", help="relic page to weigh")
    parser.add_argument("--timeout", type=float, default=45.0,
                        help="seconds allowed for one page load (bounded: <= 60)")
    args = parser.parse_args()
    if not (1 <= args.timeout <= 60) or not re.fullmatch(r"[A-Z0-9-]{1,40}", args.site):
        raise SystemExit("keep it bounded: --timeout between 1 and 60 s, --site an identifier")
    if not Path(CHROMIUM).exists():
        raise SystemExit("needs Chromium: apt-get install -y chromium fonts-noto-core")

    started = time.perf_counter()
    sh(str(ROOT / "scripts" / "devdb.sh"), "recreate", DB)
    url = private_cluster_url(DB)
    migrations.upgrade(url)
    engine = create_engine(url)
    with Session(engine) as session, session.begin():
        demo.load_demo(session)
    engine.dispose()
    proc, base = start_app(url)
    try:
        pages = [("/ (home map)", "/"), (f"/sites/{args.site}", f"/sites/{args.site}")]
        print(f"slow 4G: {SLOW_4G['latency']} ms, "
              f"{SLOW_4G['downloadThroughput'] * 8 / 1e6:.1f} Mbit/s down, "
              f"{SLOW_4G['uploadThroughput'] * 8 / 1e3:.0f} kbit/s up; phone viewport; "
              f"demo data on {base}\n", flush=True)
        result = run_browser(base, pages, args.timeout)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    ok = print_table(result["views"])
    if result["off_host"]:
        print(f"off-host requests (not resolved): {sorted(set(result['off_host']))}")
    print(f"\ntarget {'met' if ok else 'NOT met'}; run took "
          f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
