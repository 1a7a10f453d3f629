"""Hostile inputs shared by the generated checks: what a user can type, and what a client
can put in a query string. Add to these tables; every check that uses them grows with them.
"""

import base64

# Text a user can type (a username, a device id, a title, a filter) that ends up stored,
# shown on pages and put into links. PostgreSQL text refuses NUL, so none here has it.
TEXT = [
    "probe/slash",
    "/leading-slash",
    "trailing-slash/",
    "a//b",
    "..",
    ".",
    "../../etc/passwd",
    "100%",
    "%2F%00%zz",
    "?next=1",
    "#fragment",
    "a?b#c&d=e",
    '"double quotes"',
    "'single quotes'",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ request }}{% debug %}",
    "back\\slash",
    "tab\there",
    "line\nbreak\r\n",
    "\x01\x02\x07\x1b[31mcontrol\x7f",
    "\u202eevil\u202c \u200fRTL\u200e",
    "emoji 😀👍🏽🏳️‍🌈",
    "堃",
    " ",
    "items",
    "²³",
    "١٢٣",
    "9" * 30,
    "x" * 1000,
]

# Strings that are not a page cursor this server issued.
CURSORS = [
    base64.b64encode(b"p=\x00").decode(),
    base64.b64encode(b"p=notadate").decode(),
    base64.b64encode(b"o=1&r=0&p=00000000-0000-0000-0000-000000000000").decode(),
    base64.b64encode(b"o=1&r=1&p=99999999999999999999999999").decode(),
    base64.b64encode(b"o=99999999&p=1").decode(),
    base64.b64encode(b"r=x").decode(),
    base64.b64encode("p=堃".encode()).decode(),
    "not base64 at all!",
    "%00",
    "=",
    "A" * 3000,  # long, yet under API_MAX_URL_BYTES (longer is a 414, tests/faults)
]

# Query values that are not a date or time, or are one no one means.
DATES = [
    "9999-99-99",
    "0000-01-01",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "2024-01-01T00:00:00+99:00",
    "2024-02-30",
    "2024-13-01",
    "-2024-01-01",
    "+12024-01-01",
    "99999999999999999999",
    "1e308",
    "yesterday",
    "2024-01-01T25:61:61",
    "2024-01-01T00:00:00Z\x00",
    "0001-01-01",
    "0004-02-29",
    "1899-12-31",
    "3000-01-01",
]
