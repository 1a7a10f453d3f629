"""The domain's clock: the time the verbs believe it is.

Every verb, tracker and selector that asks "what time is it" asks here rather than calling
`timezone.now()` directly, so that tests control time without sleeping and the historical
demo (`seed_demo --scenario 2015h1`) can run the real verbs on the days they happened.
Outside `at()`, it is the real time.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime

from django.utils import timezone

_moment: ContextVar[datetime | None] = ContextVar("duchaa_clock", default=None)


def now() -> datetime:
    """The current moment (aware)."""
    return _moment.get() or timezone.now()


def today() -> date:
    """Today's date in the service's time zone."""
    return timezone.localdate(now())


@contextmanager
def at(moment: datetime) -> Iterator[None]:
    """Run the enclosed code as if it were `moment` (aware, or taken as local time)."""
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    token = _moment.set(moment)
    try:
        yield
    finally:
        _moment.reset(token)
