"""Every view but a short list of public ones needs a signed-in user: one walk over the app's whole URL map.

Pages send an anonymous browser to the login page; the JSON API answers 401 in JSON. A new view is covered
the moment it is registered, and a new URL parameter the walk cannot fill makes it fail loudly.
"""

import re
import uuid
from urllib.parse import urlsplit

from sqlmodel import select

from models import Card
from services.api import openapi
from tests.conftest import COUNTY

API_PREFIX = "/api/v1/"

# The only endpoints an anonymous browser may use, each with why (checked against the views).
PUBLIC = {
    "static": "CSS, JS, icons and fonts, needed by the login page itself",
    "auth.login": "the login form and its POST",
    "auth.logout": "signs out whoever is signed in (nobody, here) and goes to the login page",
    "main.healthz": "the load balancer's database check; says only ok or unavailable",
    "main.manifest": "the PWA manifest the browser fetches before anyone signs in",
    "cards.landing": "a resident scanning a household card sees the contact page, never the household's data",
    "api.openapi": "the API's description (operation.public in services/api/openapi.py); no data",
    "offline.service_worker": "the service worker script: the app's shells and static files, no data",
    "offline.shell": "the page shells the service worker shows with no signal; the phone fills them from its pack",
}

# How to fill each URL parameter that is not an <int:…>: a plausible value, so only the login check can refuse.
STRING_VALUES = {
    "code": COUNTY,
    "area_code": COUNTY,
    "uuid": str(uuid.uuid4()),
    "token": "not-a-real-card-token",
    "filename": "css/app.css",
    "name": "household",
}

# <converter(args):name> or <name>, as Werkzeug writes rules
PARAMETER = re.compile(r"<(?:(?P<converter>[a-zA-Z_][a-zA-Z0-9_]*)(?:\((?P<args>.*?)\))?:)?(?P<name>[a-zA-Z_]\w*)>")


def parameters(rule) -> dict:
    """Fill every parameter of a rule: <int:…> with 1 (a real row in the world), strings from STRING_VALUES."""
    found = {m["name"]: m["converter"] or "default" for m in PARAMETER.finditer(rule.rule)}
    assert set(found) == set(rule.arguments), f"could not read the parameters of {rule.rule}"
    values = {}
    for name, converter in found.items():
        if converter == "int":
            values[name] = 1
        else:
            assert name in STRING_VALUES, f"teach the walk a value for <{name}> in {rule.rule} ({rule.endpoint})"
            values[name] = STRING_VALUES[name]
    return values


def requests_to_check(app):
    """Yield (endpoint, method, path) for every method of every rule that is not public, HEAD and OPTIONS aside."""
    adapter = app.url_map.bind("localhost")
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint in PUBLIC:
            continue
        values = parameters(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            path = adapter.build(rule.endpoint, values, method=method)
            assert adapter.match(path, method=method) == (rule.endpoint, values), f"{path} does not lead back"
            yield rule.endpoint, method, path


def asks_to_sign_in(response, path: str) -> bool:
    """A page redirects to the login page; the API answers 401 with its JSON error body."""
    if path.startswith(API_PREFIX):
        body = response.get_json(silent=True) or {}
        return response.status_code == 401 and body.get("error") == "login_required" and bool(body.get("message"))
    return response.status_code == 302 and urlsplit(response.headers.get("Location", "")).path == "/login"


def test_every_endpoint_but_the_public_ones_needs_login(app, client, world):
    pages, api, wrong = [], [], []
    for endpoint, method, path in requests_to_check(app):
        (api if path.startswith(API_PREFIX) else pages).append(endpoint)
        response = client.open(path, method=method)
        if not asks_to_sign_in(response, path):
            where = response.headers.get("Location") or response.get_data(as_text=True)[:99]
            wrong.append(f"{method} {path} ({endpoint}): {response.status_code} {where!r}")
    assert wrong == [], "answered an anonymous browser without asking it to sign in:\n" + "\n".join(wrong)
    # the walk really walked: the page blueprints' views and every API operation, not an empty map
    assert len(set(pages)) >= 55 and len(pages) >= 70, (len(set(pages)), len(pages))
    assert {"households.restore", "reports.return_work_report", "relief.edit", "users.reset"} <= set(pages)
    assert set(api) == {f"api.{o.endpoint}" for o in openapi.OPERATIONS if not o.public} and len(api) >= 10


def test_the_public_list_names_only_real_endpoints(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(PUBLIC) - endpoints == set()
    public_operations = {f"api.{o.endpoint}" for o in openapi.OPERATIONS if o.public}
    assert public_operations == {name for name in PUBLIC if name.startswith("api.")}


def test_the_public_endpoints_answer_an_anonymous_browser(client, world, session):
    token = session.exec(select(Card.token).where(Card.household_id == world.household_a.id)).one()
    for path in (
        "/static/css/app.css",
        "/login",
        "/healthz",
        "/manifest.webmanifest",
        "/api/v1/openapi.json",
        "/sw.js",
    ):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        response.close()
    for name in ("home", "households", "household", "visit", "relief", "scan", "outbox", "page"):
        shell = client.get(f"/offline/{name}")
        assert shell.status_code == 200 and "张明华" not in shell.get_data(as_text=True), name
    card = client.get(f"/h/{token}")
    assert card.status_code == 200 and "张明华" not in card.get_data(as_text=True)
    signed_out = client.post("/logout")
    assert signed_out.status_code == 302 and urlsplit(signed_out.headers["Location"]).path == "/login"
