"""Phone layout in a real Chromium at 360 px: big tap targets and no sideways scrolling."""

MIN_TAP = 44
WIDTH = 360


def heights(page, selector: str) -> dict[str, float]:
    """Return the rendered height of each visible element matching a selector, by its text."""
    found = {}
    for element in page.locator(selector).all():
        box = element.bounding_box()
        if box is not None:
            found[element.inner_text().strip() or selector] = box["height"]
    assert found, f"nothing matched {selector}"
    return found


def too_small(found: dict[str, float]) -> dict[str, float]:
    return {text: height for text, height in found.items() if height < MIN_TAP}


def scroll_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_tab_bar_and_primary_buttons_are_big_enough_to_tap(page, live_server, sign_in, world):
    page.goto(live_server + "/login")
    assert too_small(heights(page, ".weui-btn_primary")) == {}
    sign_in(world.assistant_a)

    assert too_small(heights(page, ".tabbar .weui-tabbar__item")) == {}
    page.goto(live_server + "/households/")
    assert too_small(heights(page, ".weui-btn_primary")) == {}
    assert too_small(heights(page, ".topbar__action a")) == {}
    page.goto(f"{live_server}/households/{world.household_a.id}")
    assert too_small(heights(page, ".btn-area .weui-btn, .link-button")) == {}
    page.goto(live_server + "/households/new")
    assert too_small(heights(page, ".weui-btn_primary")) == {}
    assert too_small(heights(page, ".checks label")) == {}


def test_no_page_scrolls_sideways_at_360px(page, live_server, sign_in, world):
    page.goto(live_server + "/login")
    assert scroll_width(page) <= WIDTH
    sign_in(world.assistant_a)
    pages = {
        "首页": "/",
        "住户": "/households/",
        "详情": f"/households/{world.household_a.id}",
        "登记新户": "/households/new",
        "添加成员": f"/households/{world.household_a.id}/members/new",
        "我的": "/me",
    }
    widths = {}
    for name, path in pages.items():
        page.goto(live_server + path)
        widths[name] = scroll_width(page)
    assert {name: w for name, w in widths.items() if w > WIDTH} == {}


def test_short_pages_do_not_scroll_at_all(page, live_server, sign_in, world):
    page.goto(live_server + "/login")
    assert page.evaluate("document.documentElement.scrollHeight") <= 640
    sign_in(world.assistant_a)
    page.goto(live_server + "/password")  # 我的 grew past one screen with the offline rows: it may scroll now
    assert page.evaluate("document.documentElement.scrollHeight") <= 640
