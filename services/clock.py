"""China time (UTC+8, no daylight saving): the one time zone, and the dates and years the rules count in.

Times are stored in UTC (SQLite hands them back without a zone); days, months and years are China's.
"""

from datetime import UTC, date, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8), "CST")


def aware(moment: datetime) -> datetime:
    """Return a stored time with its zone: a time without one is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def china_time(moment: datetime) -> datetime:
    """Return a stored (UTC) time in China time."""
    return aware(moment).astimezone(CHINA)


def china_date(moment: datetime) -> date:
    """Return the date in China of a stored (UTC) time."""
    return china_time(moment).date()


def today_in_china(now: datetime | None = None) -> date:
    """Return today's date in China."""
    return (now or datetime.now(UTC)).astimezone(CHINA).date()


def china_year(now: datetime | None = None) -> int:
    """Return the current year in China."""
    return today_in_china(now).year


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Show a stored time in China time ('' for none)."""
    return "" if value is None else china_time(value).strftime(fmt)
