"""Flask extensions, made here and bound to the app in create_app()."""

from flask import request
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

login_manager = LoginManager()
csrf = CSRFProtect()
compress = Compress()
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=False)


def username_key() -> str:
    """Rate-limit key for failed logins on one account from one address.

    Not the account alone: then anyone could lock any staff account by typing wrong passwords for it.
    """
    username = (request.form.get("username") or "").strip().lower()
    return f"login-user:{username}@{get_remote_address()}"


def user_key() -> str:
    """Rate-limit key for the signed-in user (the view checks the login first)."""
    return f"user:{current_user.get_id()}"
