"""Signed-in sessions: what a login stores in the session cookie, and when a stored session stops counting.

`cookie` is the signed session mapping (flask.session in the app, session_transaction() in tests).
A session counts while it carries the user's current session version, was signed in less than the
absolute lifetime ago and was last used less than the idle lifetime ago.
"""

from collections.abc import MutableMapping
from datetime import timedelta

from sqlmodel import Session

from models import User

VERSION = "session_version"
SIGNED_IN_AT = "signed_in_at"  # Unix seconds of the login
SEEN_AT = "seen_at"  # Unix seconds of the last noted activity
# Note activity at most this often: writing the cookie on every request would send a Set-Cookie with every
# page. Idle sessions therefore end between IDLE - TOUCH_EVERY and IDLE after the last request.
TOUCH_EVERY = 300
LOGIN_KEYS = ("_user_id", "_fresh", "_id", "_remember_seconds", VERSION, SIGNED_IN_AT, SEEN_AT)


def stamp(cookie: MutableMapping, user: User, now: float) -> None:
    """Store a fresh login in the session: the user's session version and the time of signing in."""
    cookie[VERSION] = user.session_version
    cookie[SIGNED_IN_AT] = cookie[SEEN_AT] = int(now)


def keep_version(cookie: MutableMapping, user: User) -> None:
    """Keep this session signed in after its own user bumped the version (a password change)."""
    cookie[VERSION] = user.session_version


def is_current(cookie: MutableMapping, user: User, now: float, *, idle: timedelta, absolute: timedelta) -> bool:
    """Tell whether the stored session still counts for this (active) user."""
    version, signed_in_at, seen_at = cookie.get(VERSION), cookie.get(SIGNED_IN_AT), cookie.get(SEEN_AT)
    if not all(type(value) is int for value in (version, signed_in_at, seen_at)):
        return False  # made before versions existed, or by a remember-me cookie: sign in again
    return (
        user.active
        and version == user.session_version
        and now - signed_in_at < absolute.total_seconds()
        and now - seen_at < idle.total_seconds()
    )


def touch(cookie: MutableMapping, now: float) -> None:
    """Note activity, so an idle session ends IDLE after the last request, not after the login."""
    if now - cookie.get(SEEN_AT, 0) >= TOUCH_EVERY:
        cookie[SEEN_AT] = int(now)


def forget(cookie: MutableMapping) -> None:
    """Drop a login that no longer counts from the session (what else it holds stays)."""
    for key in LOGIN_KEYS:
        cookie.pop(key, None)


def end_sessions(session: Session, user: User) -> None:
    """Bump the user's session version, so every session signed in before now stops counting.

    The increment runs in SQL: two bumps at the same moment (a reset while the user changes the
    password) both count, and the row lock orders them. Reading user.session_version afterwards
    loads the new number.
    """
    user.session_version = User.session_version + 1
    session.add(user)
    session.flush()
