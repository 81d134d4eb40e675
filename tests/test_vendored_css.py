"""The vendored WeUI is cut to what Doudi uses (scripts/vendor.sh, PurgeCSS); nothing Doudi uses may be cut."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDORED_CSS = ROOT / "static/vendor/weui.min.css"
# A weui- word anywhere in a template (class attributes and Jinja expressions alike) or in one of our scripts;
# not data-weui-theme (an attribute) and not --weui-… (custom properties).
WEUI_CLASS = re.compile(r"(?<![\w-])weui-[\w-]+")
COMMENT = re.compile(r"/\*.*?\*/", re.S)

# Used in our markup, yet WeUI 2.6.26 itself has no rule for them that Doudi's markup can match, so the cut
# keeps none. A class that WeUI does style may never be added here: re-run scripts/vendor.sh instead.
NEVER_STYLED_BY_WEUI = {
    # WeUI styles the cell's head only inside checkbox cells, select-before cells and form groups.
    "weui-cell__hd",
    # No such class in WeUI 2.6: a plain dialog button already has the link colour.
    "weui-dialog__btn_primary",
}


def markup_files() -> list[Path]:
    """Return every file a class can reach the browser from: templates (any kind) and our scripts."""
    templates = [path for path in (ROOT / "templates").rglob("*") if path.is_file()]
    return sorted(templates + list((ROOT / "static/js").glob("*.js")))


def weui_classes_in(text: str) -> set[str]:
    return set(WEUI_CLASS.findall(text))


def used_weui_classes() -> dict[str, list[str]]:
    """Map each weui- class our markup uses to the files that use it."""
    used: dict[str, list[str]] = {}
    for path in markup_files():
        for name in weui_classes_in(path.read_text(encoding="utf-8")):
            used.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return used


def defined_classes(css: str) -> set[str]:
    """Return the classes that some selector of the stylesheet names (at-rule preludes have none)."""
    selectors = re.findall(r"([^{}]*)\{", COMMENT.sub("", css))
    return {name for selector in selectors for name in re.findall(r"\.(-?[A-Za-z_][\w-]*)", selector)}


def missing_classes(css: str) -> dict[str, list[str]]:
    """Return the used weui- classes (and where they are used) that the stylesheet does not define."""
    defined = defined_classes(css)
    return {
        name: files
        for name, files in used_weui_classes().items()
        if name not in defined and name not in NEVER_STYLED_BY_WEUI
    }


def without_rules_naming(css: str, name: str) -> str:
    """Drop every rule whose selector names the class, as a cut that went too far would."""
    return re.sub(r"[^{}]*\." + re.escape(name) + r"(?![\w-])[^{}]*\{[^{}]*\}", "", css)


def test_every_weui_class_of_the_templates_and_scripts_is_in_the_vendored_css():
    missing = missing_classes(VENDORED_CSS.read_text(encoding="utf-8"))
    assert not missing, f"cut from static/vendor/weui.min.css, run bash scripts/vendor.sh: {missing}"


def test_a_class_cut_from_the_css_is_reported_with_where_it_is_used():
    css = without_rules_naming(VENDORED_CSS.read_text(encoding="utf-8"), "weui-btn_mini")
    missing = missing_classes(css)
    assert "static/js/visit.js" in missing["weui-btn_mini"]  # its kept-links buttons
    assert "weui-btn" not in missing


def test_classes_inside_jinja_expressions_count_as_used():
    assert weui_classes_in("""<a class="weui-btn {{ 'weui-btn_primary' if due else "weui-btn_default" }}">""") == {
        "weui-btn",
        "weui-btn_primary",
        "weui-btn_default",
    }
    assert weui_classes_in('<body data-weui-theme="light" style="color: var(--weui-FG-0)">') == set()
    used = used_weui_classes()
    assert "templates/households/show.html" in used["weui-btn_primary"]  # only in {{ … if … else … }} there


def test_the_cut_keeps_only_what_is_used_and_the_licence():
    css = VENDORED_CSS.read_text(encoding="utf-8")
    assert "Licensed under the MIT license" in css
    assert len(css.encode()) < 40_000  # all of WeUI 2.6.26 is 188 KB
    assert "weui-picker" not in css and "weui-slider" not in css  # widgets Doudi has no use for


def test_classes_said_to_be_unstyled_by_weui_are_still_used_and_still_unstyled():
    defined = defined_classes(VENDORED_CSS.read_text(encoding="utf-8"))
    assert set(used_weui_classes()) >= NEVER_STYLED_BY_WEUI
    assert not NEVER_STYLED_BY_WEUI & defined


def test_versions_file_names_every_pinned_package_of_the_vendor_script():
    script = (ROOT / "scripts/vendor.sh").read_text(encoding="utf-8")
    pins = dict(re.findall(r"^([A-Z_]+)_VERSION=(\S+)", script, re.M))
    versions = (ROOT / "static/vendor/VERSIONS").read_text(encoding="utf-8")
    assert set(pins) == {"HTMX", "WEUI", "QR_SCANNER", "IDB", "PURGECSS"}
    for name, pin in [("htmx.org", "HTMX"), ("weui", "WEUI"), ("qr-scanner", "QR_SCANNER"), ("idb", "IDB")]:
        assert f"{name} {pins[pin]}" in versions
    assert f"purgecss {pins['PURGECSS']}" in versions
