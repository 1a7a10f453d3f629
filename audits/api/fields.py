"""Date and time fields of request bodies and query strings, within `audits.dates`.

DRF's own fields parse with Python, which accepts what no one means (year 1, a NUL at the
end) and then overflows on it in DRF's time-zone handling (a 500). These refuse such a value
first, as a 400 naming the field; the domain's own bounds are then the services'.
"""

from rest_framework import serializers as s

from audits import dates
from audits.errors import ErrorCode


class Day(s.DateField):
    """A date, YYYY-MM-DD, between `dates.FIRST_DAY` and `dates.LAST_DAY`."""

    def to_internal_value(self, value):
        if not isinstance(value, str):
            return super().to_internal_value(value)
        try:
            return dates.parse_day(value)
        except dates.BadDate as exc:
            raise s.ValidationError(str(exc), code=ErrorCode.INVALID) from exc


class Moment(s.DateTimeField):
    """An RFC 3339 time between `dates.FIRST_DAY` and `dates.LAST_DAY`."""

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                dates.parse_moment(value)
            except dates.BadDate as exc:
                raise s.ValidationError(str(exc), code=ErrorCode.INVALID) from exc
        return super().to_internal_value(value)
