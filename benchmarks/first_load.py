"""Measure, in a real Chromium at phone size, the bytes an assistant's phone transfers, and print JSON.

    python benchmarks/first_load.py [HOUSEHOLDS] [--seed S] [--database-url URL] [--accept-encoding AE]

Seeds the demo (`seed-demo`, HOUSEHOLDS households, default 300) into a fresh temporary SQLite file (or the
given scratch PostgreSQL database, whose schema is dropped and rebuilt) and serves the app on 127.0.0.1 with
werkzeug in a thread, through Flask-Compress as in production. A fresh 360×640 phone context (zh-CN, touch,
2× pixels) opens /login, signs in as demo-assistant through the form and lands on 首页; once the service worker
is ready and everything is quiet, it taps the 住户 tab, then the first household (warm cache, worker in charge).

Bytes are what the wire carried, compressed, response headers included: the Chrome DevTools Protocol's
`Network.loadingFinished.encodedDataLength` per request, from a CDP session on the page (`Network.enable`;
requestIds mapped to URLs through `Network.responseReceived`, a redirect's own response through
`redirectResponse`). Answers from the HTTP cache carry 0; what the service worker answers for the page is
counted on the worker's side. The worker is a target of its own, which Playwright attaches to with `Network`
enabled: its requests (the precache, and the pages it fetches for the tab) are sized from those events
(request.sizes(): headers + encoded body = encodedDataLength, 0 from the HTTP cache). The worker's own script
(/sw.js) is fetched by the browser before that target exists, so CDP sees only part of it: both figures are
printed. A WSGI wrapper counts what the server answered in each phase (requests, 304s, compressed body bytes)
as a cross-check; whatever it answered that no CDP event accounts for is listed under not_seen_by_cdp.

first_load_bytes = the login page's load + the 首页 load after signing in (the form's POST and its redirect,
the page, its CSS, JS, images and fetches): the page's own transfers. The service worker's precache, which
starts once 首页 has loaded, is reported apart. The goal (DESIGN §8): at most 60 KB for the first load.
The phone sends Chromium's own Accept-Encoding (printed as the server received it); Flask-Compress picks the
encoding per response (its streaming list for static files), and each row of the detail says which it got.
"""

import argparse
import contextlib
import json
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from app import create_app  # noqa: E402
from benchmarks.seed_demo import fresh_database  # noqa: E402
from commands import cli_session, migrate_and_load_areas, seed_demo_data  # noqa: E402
from services.demo.seed import DEMO_PASSWORD  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
PHONE = {
    "viewport": {"width": 360, "height": 640},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}
USERNAME = "demo-assistant"
GOAL_BYTES = 60 * 1024
QUIET_MS = 1000  # nothing sent or finished for this long, page and worker alike: the step has loaded
PHASES = ("login", "home", "households", "household")


class Phase:
    """The step the phone is in; every request is booked to the step it was sent in."""

    name = PHASES[0]


class Tally:
    """WSGI wrapper: what the server answered in each phase (a cross-check on the browser's view)."""

    def __init__(self, wsgi_app, phase: Phase) -> None:
        self.wsgi_app, self.phase, self.rows = wsgi_app, phase, []

    def __call__(self, environ, start_response):
        row = {"phase": self.phase.name, "path": environ.get("PATH_INFO", ""), "status": 0, "body": 0}
        row["accept_encoding"] = environ.get("HTTP_ACCEPT_ENCODING", "")
        self.rows.append(row)

        def start(status, headers, exc_info=None):
            row["status"] = int(status.split()[0])
            return start_response(status, headers, exc_info)

        answer = self.wsgi_app(environ, start)
        try:
            for chunk in answer:
                row["body"] += len(chunk)
                yield chunk
        finally:
            if hasattr(answer, "close"):
                answer.close()

    def summary(self) -> dict:
        """Per phase: requests answered, how many were 304, and the compressed body bytes sent."""
        result = {}
        for phase in PHASES:
            rows = [row for row in self.rows if row["phase"] == phase]
            result[phase] = {
                "requests": len(rows),
                "not_modified": sorted(row["path"] for row in rows if row["status"] == 304),
                "body_bytes": sum(row["body"] for row in rows),
            }
        return result


class Meter:
    """Bytes on the wire per request of one page, from its CDP session's Network events."""

    def __init__(self, cdp, phase: Phase) -> None:
        self.phase = phase
        self.phase_of: dict[str, str] = {}  # requestId -> the phase it was sent in
        self.url_of: dict[str, str] = {}
        self.encoding_of: dict[str, str] = {}
        self.cached: set[str] = set()  # answered from the HTTP cache: nothing on the wire
        self.by_worker: dict[str, str] = {}  # answered by the service worker -> where it got the answer
        self.done: dict[str, int] = {}  # requestId -> encodedDataLength
        self.header_bytes: Counter[str] = Counter()  # requestId -> raw response headers received (redirects too)
        self.redirects: list[tuple[str, str, int]] = []  # (phase, url, bytes) of each redirect response
        self.failed: dict[str, str] = {}
        self.last_event = time.monotonic()
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.requestServedFromCache", self._from_cache)
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.responseReceivedExtraInfo", self._headers)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.on("Network.loadingFailed", self._failed)
        cdp.send("Network.enable")

    def _mark(self) -> None:
        self.last_event = time.monotonic()

    def _from_cache(self, event: dict) -> None:
        self._mark()
        self.cached.add(event["requestId"])

    def _sent(self, event: dict) -> None:
        self._mark()
        request_id = event["requestId"]
        redirect = event.get("redirectResponse")
        if redirect:  # the same requestId goes on to the redirect's target: book the redirect response now
            self.redirects.append((self.phase_of[request_id], redirect["url"], int(redirect["encodedDataLength"])))
        self.phase_of[request_id] = self.phase.name
        self.url_of[request_id] = event["request"]["url"]

    def _response(self, event: dict) -> None:
        self._mark()
        request_id, response = event["requestId"], event["response"]
        self.url_of[request_id] = response["url"]
        headers = {name.lower(): value for name, value in response.get("headers", {}).items()}
        self.encoding_of[request_id] = headers.get("content-encoding", "identity")
        if response.get("fromDiskCache") or response.get("fromPrefetchCache"):
            self.cached.add(request_id)
        if response.get("fromServiceWorker"):
            self.by_worker[request_id] = response.get("serviceWorkerResponseSource", "?")

    def _headers(self, event: dict) -> None:
        self._mark()
        self.header_bytes[event["requestId"]] += len(event.get("headersText", "").encode())

    def _finished(self, event: dict) -> None:
        self._mark()
        self.done[event["requestId"]] = int(event["encodedDataLength"])

    def _failed(self, event: dict) -> None:
        self._mark()
        self.failed[event["requestId"]] = f"{self.url_of.get(event['requestId'], '?')}: {event.get('errorText')}"

    def pending(self) -> int:
        """Return how many requests were sent and have neither finished nor failed."""
        return len(set(self.phase_of) - set(self.done) - set(self.failed))

    def rows(self, phase: str) -> list[tuple[str, int, str]]:
        """Return (path, bytes, encoding or 'cache') of what the page itself fetched in a phase, redirects included."""
        rows = [(path_of(url), size, "redirect") for where, url, size in self.redirects if where == phase]
        for request_id, size in self.done.items():
            url = self.url_of[request_id]
            if self.phase_of.get(request_id) != phase or request_id in self.by_worker or url.startswith("data:"):
                continue
            cached = request_id in self.cached
            rows.append((path_of(url), 0 if cached else size, "cache" if cached else self.encoding_of[request_id]))
        return rows

    def headers_in(self, phase: str) -> int:
        """Return the response header bytes of the page's network requests in a phase (part of rows' bytes)."""
        own = set(self.done) - self.cached - set(self.by_worker)
        return sum(size for rid, size in self.header_bytes.items() if rid in own and self.phase_of.get(rid) == phase)

    def worker_answers(self, phase: str) -> dict[str, int]:
        """Count the page's requests the service worker answered in a phase, by where it got them."""
        return dict(Counter(source for rid, source in self.by_worker.items() if self.phase_of.get(rid) == phase))


def path_of(url: str) -> str:
    """Return the path of a URL, without its query (the ?v= cache busters) or origin."""
    return urlsplit(url).path or url


def total(rows: list[tuple[str, int, str]]) -> int:
    return sum(size for _path, size, _how in rows)


def largest(rows: list[tuple[str, int, str]]) -> list[list]:
    """Merge rows by path and sort them, largest first: [path, bytes, encoding]."""
    merged: dict[str, list] = {}
    for path, size, how in rows:
        entry = merged.setdefault(path, [path, 0, how])
        entry[1] += size
        if how not in entry[2].split("+"):
            entry[2] += "+" + how
    return sorted(merged.values(), key=lambda entry: (-entry[1], entry[0]))


def not_seen(tally: Tally, phase: str, rows: list[tuple[str, int, str]]) -> list[list]:
    """Return [path, body bytes] of what the server answered in a phase that no CDP row with bytes accounts for."""
    left = Counter(path for path, size, _how in rows if size)
    missing = []
    for row in tally.rows:
        if row["phase"] == phase:
            if left[row["path"]]:
                left[row["path"]] -= 1
            else:
                missing.append([row["path"], row["body"]])
    return missing


def settle(page, meter: Meter, worker: list, timeout: float = 30.0) -> None:
    """Wait (letting Playwright deliver events) until page and worker have been quiet for QUIET_MS."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page.wait_for_timeout(100)
        last = max(meter.last_event, worker[-1][0] if worker else 0.0)
        if (time.monotonic() - last) * 1000 >= QUIET_MS and meter.pending() == 0:
            return
    print(f"still loading after {timeout:.0f} s: measuring what came", file=sys.stderr)


def seed(app, households: int, seed_value: int) -> None:
    """Migrate, load the areas and seed the demo as `flask seed-demo` does (its chatter goes to stderr)."""
    with app.app_context(), contextlib.redirect_stdout(sys.stderr):
        migrate_and_load_areas()
        with cli_session() as session:
            seed_demo_data(session, households=households, seed=seed_value, password=DEMO_PASSWORD)


def drive(base: str, phase: Phase, accept_encoding: str | None) -> dict:
    """Take the phone through login, 首页 and two warm taps; return the page's and the worker's rows."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        extra = {"extra_http_headers": {"Accept-Encoding": accept_encoding}} if accept_encoding else {}
        context = browser.new_context(**PHONE, **extra)
        context.set_default_timeout(20000)
        page = context.new_page()
        meter = Meter(context.new_cdp_session(page), phase)
        worker: list[tuple[float, str, object]] = []  # (when, phase, request) finished on the worker's target
        context.on("requestfinished", lambda r: r.service_worker and worker.append((time.monotonic(), phase.name, r)))
        context.on("requestfailed", lambda r: r.service_worker and meter.failed.setdefault(r.url, r.failure or "?"))

        page.goto(base + "/login")
        settle(page, meter, worker)
        phase.name = "home"
        page.get_by_placeholder("请输入用户名").fill(USERNAME)
        page.get_by_placeholder("请输入密码").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="登录").tap()
        page.wait_for_url(base + "/")
        page.wait_for_load_state("load")
        ready = page.evaluate(
            "() => 'serviceWorker' in navigator && Promise.race([navigator.serviceWorker.ready.then(() => true),"
            " new Promise((resolve) => setTimeout(() => resolve(false), 15000))])"
        )
        settle(page, meter, worker)

        phase.name = "households"
        page.get_by_role("navigation", name="主导航").get_by_text("住户").tap()
        page.wait_for_url(base + "/households/")
        settle(page, meter, worker)
        phase.name = "household"
        page.locator("a.hh-row").first.tap()
        page.wait_for_url(lambda url: path_of(url).rstrip("/").split("/")[-1].isdigit())
        settle(page, meter, worker)
        phase.name = "done"

        worker_rows: dict[str, list] = {name: [] for name in PHASES}
        for _when, name, request in worker:
            sizes, response = request.sizes(), request.response()
            how = (response.header_value("content-encoding") if response else None) or "identity"
            size = max(0, sizes["responseHeadersSize"] + sizes["responseBodySize"])  # = encodedDataLength
            worker_rows[name].append((path_of(request.url), size, how if size else "cache"))
        seen = {
            "page": {name: meter.rows(name) for name in PHASES},
            "worker": worker_rows,
            "worker_answers": {name: meter.worker_answers(name) for name in PHASES},
            "header_bytes": {name: meter.headers_in(name) for name in PHASES},
            "worker_ready": ready,
            "failed": sorted(meter.failed.values()),
        }
        context.close()
        browser.close()
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("households", type=int, nargs="?", default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--accept-encoding",
        default=None,
        help="send this instead of Chromium's own header (an experiment: the worker sees it on the page's requests"
        " and not on its own, so Vary: Accept-Encoding makes its Cache Storage miss)",
    )
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp())
    url = args.database_url or f"sqlite:///{scratch}/bench.sqlite3"
    fresh_database(url)
    folders = {"UPLOAD_FOLDER": str(scratch / "uploads"), "PHOTO_FOLDER": str(scratch / "photos")}
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "RATELIMIT_STORAGE_URI": "memory://"} | folders)
    seed(app, args.households, args.seed)
    phase = Phase()
    tally = Tally(app.wsgi_app, phase)
    app.wsgi_app = tally
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, name="first-load-server", daemon=True).start()
    try:
        seen = drive(f"http://127.0.0.1:{server.server_port}", phase, args.accept_encoding)
    finally:
        server.shutdown()
        server.server_close()
        app.extensions["doudi_engine"].dispose()
    page, worker = seen["page"], seen["worker"]
    login_bytes, home_bytes = total(page["login"]), total(page["home"])
    precache = worker["login"] + worker["home"]
    tab, household = page["households"] + worker["households"], page["household"] + worker["household"]
    first_load = login_bytes + home_bytes
    result = {
        "database": url.split(":", 1)[0].split("+", 1)[0],
        "households": args.households,
        "accept_encoding": sorted({row["accept_encoding"] for row in tally.rows}),
        "first_load_bytes": first_load,
        "goal_bytes": GOAL_BYTES,
        "within_goal": first_load <= GOAL_BYTES,
        "first_load_response_header_bytes": seen["header_bytes"]["login"] + seen["header_bytes"]["home"],
        "login_page_bytes": login_bytes,
        "home_after_login_bytes": home_bytes,
        "service_worker_ready": seen["worker_ready"],
        "service_worker_precache_bytes": total(precache),
        "service_worker_precache_downloads": sum(1 for _path, size, _how in precache if size),
        "first_load_with_precache_bytes": first_load + total(precache),
        "navigation_bytes": total(tab) + total(household),
        "navigation": {"households_tab_bytes": total(tab), "household_page_bytes": total(household)},
        "navigation_answered_by_worker": {"households_tab": seen["worker_answers"]["households"]}
        | {"household_page": seen["worker_answers"]["household"]},
        "largest": [entry[:2] for entry in largest(page["login"] + page["home"]) if entry[1]],
        "detail": {
            "login": largest(page["login"]),
            "home": largest(page["home"]),
            "precache": largest(precache),
            "households_tab": largest(tab),
            "household_page": largest(household),
        },
        "service_worker_script": {
            "cdp_bytes": total([row for row in precache if row[0] == "/sw.js"]),
            "server_body_bytes": sum(row["body"] for row in tally.rows if row["path"] == "/sw.js"),
        },
        "server": tally.summary(),
        "not_seen_by_cdp": {
            "login": not_seen(tally, "login", page["login"] + worker["login"]),
            "home": not_seen(tally, "home", page["home"] + worker["home"]),
            "households_tab": not_seen(tally, "households", tab),
            "household_page": not_seen(tally, "household", household),
        },
        "failed_requests": seen["failed"],
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
