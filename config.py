"""Read the app's settings from the environment, strictly."""

import os
from datetime import timedelta

DEV_SECRET_KEY = "dev-only-not-secret"
ENVIRONMENTS = ("development", "testing", "production")


class ConfigError(RuntimeError):
    """A setting is missing or malformed."""


def env_str(name: str, default: str | None = None) -> str | None:
    """Return an environment variable, or the default when unset or blank."""
    value = os.environ.get(name, "").strip()
    return value or default


def env_int(name: str, default: int, minimum: int | None = None) -> int:
    """Return an environment variable as an int (at least minimum, if given); refuse anything else."""
    raw = env_str(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def session_lifetimes() -> tuple[timedelta, timedelta]:
    """Return how long a session lasts unused (idle) and at most since its login (absolute)."""
    idle = timedelta(hours=env_int("SESSION_IDLE_HOURS", 12, minimum=1))
    absolute = timedelta(days=env_int("SESSION_MAX_DAYS", 7, minimum=1))
    if idle > absolute:
        raise ConfigError("SESSION_IDLE_HOURS must not be longer than SESSION_MAX_DAYS")
    return idle, absolute


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """Return an environment variable that must be one of the choices."""
    value = env_str(name, default)
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def from_environment(instance_path: str) -> dict:
    """Build the settings dict for an app whose instance folder is instance_path."""
    environment = env_choice("DOUDI_ENV", "development", ENVIRONMENTS)
    default_db = "sqlite:///" + os.path.join(instance_path, "doudi.sqlite3")
    idle, absolute = session_lifetimes()
    return {
        "DOUDI_ENV": environment,
        "SECRET_KEY": env_str("SECRET_KEY", DEV_SECRET_KEY),
        "DATABASE_URL": normalise_database_url(env_str("DATABASE_URL", default_db)),
        "PUBLIC_BASE_URL": env_str("PUBLIC_BASE_URL"),
        "RATELIMIT_STORAGE_URI": env_str("RATELIMIT_STORAGE_URI", "memory://"),
        # how many reverse proxies (nginx, a load balancer) stand in front: their X-Forwarded-For is trusted
        "TRUSTED_PROXY_COUNT": env_int("TRUSTED_PROXY_COUNT", 0),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": environment == "production",
        # shared phones: a session ends after 12 hours unused and 7 days after its login, whatever happens
        # (services/accounts/sessions.py checks both on every request; Flask refuses cookies signed longer
        # than the idle lifetime ago). The login notes activity itself, so static files carry no Set-Cookie.
        "PERMANENT_SESSION_LIFETIME": idle,
        "SESSION_REFRESH_EACH_REQUEST": False,
        "SESSION_MAX_LIFETIME": absolute,
        # the login never sets a remember-me cookie, and a session it would restore has no version: refused
        "REMEMBER_COOKIE_DURATION": absolute,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": environment == "production",
        "WTF_CSRF_TIME_LIMIT": None,  # a form left open all afternoon must still submit
        "MAX_CONTENT_LENGTH": env_int("MAX_UPLOAD_MB", 20) * 1024 * 1024,
        "SEND_FILE_MAX_AGE_DEFAULT": 365 * 24 * 3600,  # static files carry ?v=… cache busters
    }


def normalise_database_url(url: str) -> str:
    """Point plain postgres:// URLs at the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def check_production_ready(config: dict) -> None:
    """Refuse to run in production with development secrets."""
    if config["DOUDI_ENV"] != "production":
        return
    if not config.get("SECRET_KEY") or config["SECRET_KEY"] == DEV_SECRET_KEY:
        raise ConfigError("SECRET_KEY must be set to a long random value in production")
    if not config.get("PUBLIC_BASE_URL", "").startswith("https://"):
        raise ConfigError("PUBLIC_BASE_URL must be the https:// address printed on cards in production")
    if config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        raise ConfigError("RATELIMIT_STORAGE_URI must point at Redis in production (many processes)")
