"""Jinja filters and globals: masked ID numbers, local times, money in 元, and can() for buttons."""

import hashlib
import os

from flask import url_for
from flask_login import current_user

from services.clock import local_time
from services.money import fen_to_yuan, yuan
from services.names import mask_name
from services.permissions import can
from services.registry.categories import label as category_label
from services.registry.idnumber import mask


def asset_url_maker(static_folder: str):
    """Return asset_url(path): a static URL with a content hash, so files can be cached for a year."""
    versions: dict[str, str] = {}

    def asset_url(path: str) -> str:
        if path not in versions:
            with open(os.path.join(static_folder, path), "rb") as handle:
                versions[path] = hashlib.sha256(handle.read()).hexdigest()[:10]
        return url_for("static", filename=path, v=versions[path])

    return asset_url


def current_user_can(capability: str, obj=None) -> bool:
    """Tell whether the signed-in user may use a capability (templates offer a button only then)."""
    return can(current_user, capability, obj)


def register(app) -> None:
    """Add the filters and globals to the app's Jinja environment."""
    app.jinja_env.filters.update(
        mask_id=mask,
        local_time=local_time,
        yuan=yuan,
        yuan_input=fen_to_yuan,  # a form field's value: 600.00, no thousands commas
        category=category_label,
        mask_name=mask_name,
    )
    app.jinja_env.globals["asset_url"] = asset_url_maker(app.static_folder)
    app.jinja_env.globals["can"] = current_user_can
    # lets a page offer a button only once the feature behind it exists (no dead links)
    app.jinja_env.globals["has_endpoint"] = lambda name: name in app.view_functions
