"""Which dates and times the service accepts, in one place (README, "API", "Dates").

Two layers. Nothing outside FIRST_DAY..LAST_DAY is even parsed: Python, DRF and
PostgreSQL disagree at the edges (year 0, offsets of a day or more, year 1 moved across a
time zone, five years before year 3), and a value there became a 500 instead of a 400.
Inside that, each kind of date has the bounds of what someone could mean by it, relative to
today or to the visit it belongs to. The checks return messages; the caller names the field.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import formats
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

# Every date or time in a request (a body, a filter, a figure's period) lies in here.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)

# Campaigns are recorded and planned near the present: one that began up to two years ago
# (a round entered late), or that ends up to five years ahead; a round lasts at most a year
# (the article's rounds are yearly, "2015年度…").
CAMPAIGN_PAST = timedelta(days=731)  # starts_on ≥ today − 2 years
CAMPAIGN_FUTURE = timedelta(days=1827)  # ends_on ≤ today + 5 years
CAMPAIGN_MAX_DAYS = 366  # starts_on to ends_on, both included

# What happened in the field (check-in `at`, a finding's `observed_at`) happened during the
# visit: within its window widened by a day on each side, and not later than now. The day
# covers a phone whose clock or zone is wrong (a phone left on UTC is 8 hours off here) and a
# team still at work past midnight on the window's last day; further out it is not a clock
# error but another visit, and the planner moves the window first (PATCH /visits). The
# skew is the clock difference between a phone and the server that is not worth refusing.
VISIT_TOLERANCE = timedelta(days=1)
CLOCK_SKEW = timedelta(minutes=10)

# A rectification deadline is after today and at most a year ahead: a longer job gets a new
# deadline each time the planners return it (verify with accepted: false).
RECTIFY_MAX_DAYS = 366


class BadDate(ValueError):
    """Not a date or time the service accepts; the message says why, for the caller."""


def _local() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _show(day: date) -> str:
    return day.isoformat()


def _text(value: str) -> str:
    value = value.strip()
    if not (value.isascii() and value.isprintable()):
        # Python's parser stops at a NUL and takes what came before it.
        raise BadDate(_("应为日期或 RFC 3339 时间。"))
    return value


def _in_range(day: date) -> None:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise BadDate(
            _("日期须在 %(first)s 至 %(last)s 之间。")
            % {"first": _show(FIRST_DAY), "last": _show(LAST_DAY)}
        )


def parse_day(value: str) -> date:
    """A date (YYYY-MM-DD) within FIRST_DAY..LAST_DAY."""
    try:
        day = parse_date(_text(value))
    except ValueError:
        day = None  # well formed but impossible: month 13, 30 February, year 0
    if day is None:
        raise BadDate(_("应为日期（YYYY-MM-DD）。"))
    _in_range(day)
    return day


def parse_moment(value: str, *, end: bool | None = None) -> datetime:
    """An aware time within FIRST_DAY..LAST_DAY: RFC 3339, or (when `end` is given, for
    filters) a date meaning its first or, for the end of a range, last local instant."""
    value = _text(value)
    try:
        moment = parse_datetime(value)
        if moment is None and end is not None:
            day = parse_date(value)
            if day is not None:
                moment = datetime.combine(day, time.max if end else time.min)
    except ValueError:
        moment = None  # well formed but impossible: hour 25, offset +99:00, year 0
    if moment is None:
        raise BadDate(_("应为日期或 RFC 3339 时间。"))
    _in_range(moment.date())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_local())
    return moment


def campaign_problems(starts_on: date, ends_on: date, today: date) -> dict[str, list[str]]:
    """Why a campaign's days are refused, by field; empty when they are fine."""
    errors: dict[str, list[str]] = {}
    earliest, latest = today - CAMPAIGN_PAST, today + CAMPAIGN_FUTURE
    for field, day in (("starts_on", starts_on), ("ends_on", ends_on)):
        if not earliest <= day <= latest:
            errors[field] = [
                _("日期须在 %(first)s 至 %(last)s 之间。")
                % {"first": _show(earliest), "last": _show(latest)}
            ]
    if errors:
        return errors
    if ends_on < starts_on:
        errors["ends_on"] = [_("结束日期不能早于开始日期。")]
    elif (ends_on - starts_on).days + 1 > CAMPAIGN_MAX_DAYS:
        errors["ends_on"] = [_("专题不能超过 %(days)d 天。") % {"days": CAMPAIGN_MAX_DAYS}]
    return errors


def field_time_problem(
    moment: datetime, window_start: datetime, window_end: datetime, now: datetime
) -> str | None:
    """Why a time recorded during a visit is refused, or None."""
    if moment > now + CLOCK_SKEW:
        return _("时间不能晚于现在。")
    first, last = window_start - VISIT_TOLERANCE, window_end + VISIT_TOLERANCE
    if not first <= moment <= last:
        local = _local()
        return _("时间须在检查窗口内（%(first)s 至 %(last)s，已含前后各一天的余量）。") % {
            "first": formats.date_format(first.astimezone(local), "Y-m-d H:i"),
            "last": formats.date_format(last.astimezone(local), "Y-m-d H:i"),
        }
    return None


def deadline_problem(day: date, today: date) -> str | None:
    """Why a rectification deadline is refused, or None."""
    if day <= today:
        return _("整改期限须晚于今天。")
    latest = today + timedelta(days=RECTIFY_MAX_DAYS)
    if day > latest:
        return _("整改期限不能晚于 %(day)s。") % {"day": _show(latest)}
    return None
