"""Take phone-sized screenshots of the main pages, on a throwaway database with a few households.

    python scripts/screenshots.py [FOLDER]      (default ./screenshots, which git ignores)

Runs the app on 127.0.0.1 with real CSRF checks, logs in through the login form as a village
assistant in Debian's Chromium at 360×640 (2× pixels), and saves one PNG per page.
"""

import argparse
import logging
import shutil
import sys
import tempfile
import threading
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402
from sqlmodel import Session  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

import db  # noqa: E402
from app import create_app  # noqa: E402
from models import Household, Person, PersonCategory, User  # noqa: E402
from services.accounts.users import hash_password  # noqa: E402
from services.registry import areas, idnumber  # noqa: E402

VILLAGE = "530902100201"  # 碗窑村, 博尚镇, 临翔区
USERNAME, PASSWORD = "lixieli", "screenshot-pass-42"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {
    "viewport": {"width": 360, "height": 640},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}
# (head, birth date, sex digit, categories, members as (name, relation, birth date, sex digit, categories))
HOUSEHOLDS = [
    ("杨桂兰", "19520314", 2, ["tekun_dispersed", "lonely_elderly"], []),
    ("李国强", "19780609", 1, ["dibao"], [("李小芳", "女", "20120905", 2, ["left_behind_child"])]),
    ("罗正华", "19660102", 1, ["dibao", "severe_disability"], [("罗玉芬", "配偶", "19680411", 2, ["dibao"])]),
    (
        "张明华",
        "19450516",
        1,
        ["dibao", "serious_illness"],
        [
            ("王秀珍", "配偶", "19470820", 2, ["dibao"]),
            ("张小龙", "孙子", "20140301", 1, ["left_behind_child", "dibao"]),
        ],
    ),
]


def make_id(birth: str, sex_digit: int, serial: int) -> str:
    """Return a valid synthetic ID number from 临翔区 for a birth date and sex."""
    first17 = f"530902{birth}{serial:02d}{sex_digit}"
    return first17 + idnumber.check_digit(first17)


def add_person(session, household, name, relation, birth, sex_digit, categories, serial, head=False):
    number = make_id(birth, sex_digit, serial)
    person = Person(
        household_id=household.id,
        name=name,
        relation=relation,
        is_head=head,
        id_number=number,
        id_last4=number[-4:],
        birth_date=date(int(birth[:4]), int(birth[4:6]), int(birth[6:])),
        sex="男" if sex_digit % 2 else "女",
    )
    session.add(person)
    session.flush()
    for category in categories:
        session.add(PersonCategory(person_id=person.id, category=category))


def seed(url: str) -> int:
    """Migrate, load the areas, add an assistant and a few households; return the showcase household id."""
    engine = db.make_engine(url)
    db.upgrade(engine)
    with Session(engine) as session:
        areas.load_lincang(session)
        assistant = User(
            username=USERNAME,
            display_name="李协理",
            phone="13800000001",
            role="assistant",
            area_code=VILLAGE,
            password_hash=hash_password(PASSWORD),
            must_change_password=False,
        )
        session.add(assistant)
        session.flush()
        serial = 10
        for number, (head, birth, sex, categories, members) in enumerate(HOUSEHOLDS, start=1):
            household = Household(
                area_code=VILLAGE,
                household_no=f"{number:04d}",
                address=f"碗窑村{number}组",
                phone=f"1390000000{number}",
                assistant_id=assistant.id,
                care_agreement_signed=number % 2 == 0,
                guardian="张建国" if number == 4 else None,
            )
            session.add(household)
            session.flush()
            add_person(session, household, head, "本人", birth, sex, categories, serial, head=True)
            for name, relation, m_birth, m_sex, m_categories in members:
                serial += 1
                add_person(session, household, name, relation, m_birth, m_sex, m_categories, serial)
            serial += 1
        session.commit()
        showcase = household.id
    engine.dispose()
    return showcase


def shoot(page, base: str, folder: Path, household_id: int) -> list[Path]:
    """Log in and save the screenshots; return the files written."""
    files = []

    def save(name: str, path: str | None = None, full_page: bool = False) -> None:
        if path is not None:
            page.goto(base + path)
        page.wait_for_load_state("networkidle")
        target = folder / f"{name}.png"
        if full_page:
            # Grow the viewport to the whole page, so the fixed tab bar lands at the bottom, not mid-page.
            height = page.evaluate("document.documentElement.scrollHeight")
            page.set_viewport_size({"width": 360, "height": height})
            page.screenshot(path=str(target))
            page.set_viewport_size(PHONE["viewport"])
        else:
            page.screenshot(path=str(target))
        files.append(target)

    save("01-login", "/login")
    page.get_by_placeholder("请输入用户名").fill(USERNAME)
    page.get_by_placeholder("请输入密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").tap()
    page.wait_for_url(base + "/")
    save("02-home")
    save("03-household-list", "/households/")
    save("04-household-detail", f"/households/{household_id}")
    save("04-household-detail-full", full_page=True)
    save("05-household-form", "/households/new")
    page.locator("input[name=name]").fill("罗玉芬")
    page.get_by_placeholder("18 位，可不填").fill("530902196001010010")
    with page.expect_navigation():
        page.get_by_role("button", name="保存").tap()
    save("05-household-form-errors", full_page=True)
    save("06-member-form", f"/households/{household_id}/members/new")
    save("07-me", "/me")
    return files


def main() -> None:
    """Seed a throwaway database, serve it, and take the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default="screenshots", help="where to save the PNGs")
    folder = Path(parser.parse_args().folder)
    folder.mkdir(parents=True, exist_ok=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request drowns the file list
    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("Chromium is not installed (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/doudi.sqlite3"
        household_id = seed(url)
        app = create_app(
            {
                "DATABASE_URL": url,
                "SECRET_KEY": "screenshots",
                "WTF_CSRF_ENABLED": True,
                "RATELIMIT_STORAGE_URI": "memory://",
                "UPLOAD_FOLDER": f"{tmp}/uploads",
            }
        )
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        errors = []
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
                page = browser.new_context(**PHONE).new_page()
                page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
                page.on("pageerror", lambda error: errors.append(str(error)))
                files = shoot(page, f"http://127.0.0.1:{server.server_port}", folder, household_id)
                browser.close()
        finally:
            server.shutdown()
            app.extensions["doudi_engine"].dispose()
    for path in files:
        print(path)
    unexpected = [e for e in errors if "status of 400" not in e]  # the error form answers 400 on purpose
    if unexpected:
        sys.exit("The pages logged errors:\n" + "\n".join(unexpected))


if __name__ == "__main__":
    main()
