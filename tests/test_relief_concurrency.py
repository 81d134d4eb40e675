"""Two officers acting at the same moment, with real concurrent requests against a running threaded server (CSRF on,
signed in through the login form): exactly one approval wins, the other is told it was already handled, and the
township reserve is drawn once and never below zero."""

import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

import pytest
from sqlalchemy import update
from sqlmodel import func, select

from models import ReliefApplication, ReliefEvent, TownshipFund
from tests.conftest import PASSWORD, TOWNSHIP, add_user
from tests.test_relief_rules import balance_yuan, give_fund, relief_payload

ROUNDS = 10
TOKEN = re.compile(r'name="csrf[-_]token" (?:content|value)="([^"]+)"')


class Browser:
    """One signed-in person: their own cookie jar and CSRF token, as a separate phone would have."""

    def __init__(self, base: str, username: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        login_page = self._open("/login")[1]
        form = {"csrf_token": TOKEN.search(login_page).group(1), "username": username, "password": PASSWORD}
        status, home = self._open("/login", urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded")
        assert status == 200 and "请输入密码" not in home, f"{username} could not sign in"
        self.token = TOKEN.search(self._open("/households/")[1]).group(1)

    def _open(self, path: str, data: bytes | None = None, content_type: str | None = None) -> tuple[int, str]:
        headers = {"X-CSRFToken": getattr(self, "token", "")}
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(self.base + path, data=data, headers=headers)
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as refused:
            return refused.code, refused.read().decode()

    def post_json(self, path: str, body: dict) -> tuple[int, dict]:
        status, text = self._open(path, json.dumps(body).encode(), "application/json")
        return status, json.loads(text)


def at_once(calls) -> list:
    """Run the calls in threads released together by a barrier; return their results in order."""
    start, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(index, call):
        start.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    return results


def approve(browser: Browser, application: dict):
    body = {"action": "approve", "version": application["version"]}
    return lambda: browser.post_json(f"/api/v1/relief/{application['id']}/decisions", body)


@pytest.fixture
def officers(live_server, world, session, password_hash):
    """Two township officers of 博尚镇 signed in on their own phones, and assistant A who raises applications."""
    add_user(session, password_hash, "township-2", "township", TOWNSHIP, display_name="周经办")
    session.commit()
    return Browser(live_server, "township"), Browser(live_server, "township-2"), Browser(live_server, "assistant-a")


def raise_application(assistant: Browser, world, amount: str = "600") -> dict:
    status, body = assistant.post_json("/api/v1/relief", relief_payload(world, amount_yuan=amount))
    assert status == 201, body
    return body


def test_two_officers_approving_the_same_application_at_once_get_one_approval_and_one_already_handled(
    world, session, officers
):
    first, second, assistant = officers
    give_fund(session, balance_yuan="10000")
    for _ in range(ROUNDS):
        application = raise_application(assistant, world)
        answers = at_once([approve(first, application), approve(second, application)])
        assert sorted(status for status, _ in answers) == [200, 409], answers
        (_, won), (_, lost) = sorted(answers, key=lambda answer: answer[0])
        assert won["state"] == "approved" and won["version"] == 3
        assert lost["error"] == "stale_version" and "已被处理" in lost["message"]
        assert (lost["state"], lost["state_label"], lost["version"]) == ("approved", "已批准，待发放", 3)
    assert balance_yuan(session) == 10000 - ROUNDS * 600  # drawn once per application
    approvals = session.exec(select(ReliefEvent.application_id).where(ReliefEvent.action == "approve")).all()
    assert len(approvals) == ROUNDS and len(set(approvals)) == ROUNDS
    versions = session.exec(select(ReliefApplication.version).where(ReliefApplication.state == "approved")).all()
    assert versions == [3] * ROUNDS


def test_two_approvals_racing_for_a_small_reserve_never_take_it_below_zero(world, session, officers):
    first, second, assistant = officers
    give_fund(session, balance_yuan="1000")
    for _ in range(ROUNDS // 2):
        session.exec(update(TownshipFund).where(TownshipFund.area_code == TOWNSHIP).values(balance_fen=100000))
        session.commit()
        one, other = raise_application(assistant, world), raise_application(assistant, world)
        answers = at_once([approve(first, one), approve(second, other)])
        assert sorted(status for status, _ in answers) == [200, 400], answers
        (_, won), (_, refused) = sorted(answers, key=lambda answer: answer[0])
        assert won["state"] == "approved" and won["amount_approved_yuan"] == "600.00"
        assert refused == {"error": "relief_refused", "message": "乡镇备用金余额不足：还剩 400 元，不够批准这笔救助"}
        assert balance_yuan(session) == 400
    waiting = session.exec(select(func.count()).where(ReliefApplication.state == "submitted")).one()
    assert waiting == ROUNDS // 2  # each refused application is still there to forward or approve later


def test_with_just_enough_reserve_the_second_officer_is_told_it_was_handled_not_that_money_ran_out(
    world, session, officers
):
    first, second, assistant = officers
    give_fund(session, balance_yuan="600")
    for _ in range(ROUNDS // 2):
        session.exec(update(TownshipFund).where(TownshipFund.area_code == TOWNSHIP).values(balance_fen=60000))
        session.commit()
        application = raise_application(assistant, world)
        answers = at_once([approve(first, application), approve(second, application)])
        assert sorted(status for status, _ in answers) == [200, 409], answers
        assert "已被处理" in max(answers, key=lambda answer: answer[0])[1]["message"]
        assert balance_yuan(session) == 0
