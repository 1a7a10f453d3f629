"""Which dates and times the service accepts, in one place.

A date is only ever compared, stored and shown if it is one someone could mean: Python
and PostgreSQL disagree at the edges (year 0, offsets of a day or more, year 9999 moved
across a time zone), and a value there became a 500 instead of a 400.
"""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

# Query parameters (filters, figures) may reach back and forward this far: wider than any
# record can be, narrow enough that no time zone carries a bound out of range.
QUERY_FIRST_DAY = date(1900, 1, 1)
QUERY_LAST_DAY = date(2999, 12, 31)


class BadDate(ValueError):
    """Not a date or time the service accepts; the message says why, for the caller."""


def _local() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _in_query_range(day: date) -> None:
    if not QUERY_FIRST_DAY <= day <= QUERY_LAST_DAY:
        raise BadDate(
            _("日期须在 %(first)s 至 %(last)s 之间。")
            % {"first": QUERY_FIRST_DAY.isoformat(), "last": QUERY_LAST_DAY.isoformat()}
        )


def query_day(value: str) -> date:
    """A date (YYYY-MM-DD) from a query string, within the query range."""
    value = value.strip()
    try:
        day = parse_date(value) if value.isascii() and value.isprintable() else None
    except ValueError:
        day = None
    if day is None:
        raise BadDate(_("应为日期（YYYY-MM-DD）。"))
    _in_query_range(day)
    return day


def query_moment(value: str, *, end: bool) -> datetime:
    """An aware time from a query string: RFC 3339, or a date meaning its first (or, for
    the end of a range, last) instant in local time; within the query range."""
    value = value.strip()
    if not (value.isascii() and value.isprintable()):
        # Python's parser stops at a NUL and takes what came before it.
        raise BadDate(_("应为日期或 RFC 3339 时间。"))
    try:
        moment = parse_datetime(value)
        if moment is None:
            day = parse_date(value)
            if day is not None:
                moment = datetime.combine(day, time.max if end else time.min)
    except ValueError:
        moment = None  # well formed but impossible: month 13, offset +99:00, year 0
    if moment is None:
        raise BadDate(_("应为日期或 RFC 3339 时间。"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_local())
    _in_query_range(moment.date())
    return moment
