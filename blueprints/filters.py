"""Jinja filters: masked ID numbers, local times, money in 元."""

import hashlib
import os
from datetime import UTC, datetime, timedelta, timezone

from flask import url_for

from services.registry.categories import label as category_label
from services.registry.idnumber import mask

CHINA = timezone(timedelta(hours=8), "CST")


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Show a UTC time in China Standard Time."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(CHINA).strftime(fmt)


def yuan(fen: int | None) -> str:
    """Show an amount held in 分 as 元 with two decimals."""
    if fen is None:
        return "—"
    return f"{fen // 100:,}.{fen % 100:02d}"


def mask_name(name: str | None) -> str:
    """Hide the middle of a name: 张*明, 李*."""
    if not name:
        return ""
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def asset_url_maker(static_folder: str):
    """Return asset_url(path): a static URL with a content hash, so files can be cached for a year."""
    versions: dict[str, str] = {}

    def asset_url(path: str) -> str:
        if path not in versions:
            with open(os.path.join(static_folder, path), "rb") as handle:
                versions[path] = hashlib.sha256(handle.read()).hexdigest()[:10]
        return url_for("static", filename=path, v=versions[path])

    return asset_url


def register(app) -> None:
    """Add the filters and globals to the app's Jinja environment."""
    app.jinja_env.filters.update(
        mask_id=mask,
        local_time=local_time,
        yuan=yuan,
        category=category_label,
        mask_name=mask_name,
    )
    app.jinja_env.globals["asset_url"] = asset_url_maker(app.static_folder)
    # lets a page offer a button only once the feature behind it exists (no dead links)
    app.jinja_env.globals["has_endpoint"] = lambda name: name in app.view_functions
