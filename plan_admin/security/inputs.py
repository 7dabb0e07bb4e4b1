"""Strict parsing of values that arrive in URLs and query strings.

`str.isdigit()` is true for "²" and "١٢" (Unicode digits) although `int()` refuses the first, and an id beyond
the database's 64-bit integers makes PostgreSQL fail: so ids and years are read as ASCII digits only, in range.
"""

from django.utils.http import url_has_allowed_host_and_scheme

MAX_ID = 2**63 - 1  # the largest value of a BigAutoField (PostgreSQL bigint)


def parse_id(value) -> int | None:
    """The row id that `value` spells in ASCII digits (1 to 2**63 - 1), or None for anything else."""
    text = str(value)
    if not text or len(text) > 19 or not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def parse_small_int(value, *, digits: int) -> int | None:
    """A non-negative whole number of at most `digits` ASCII digits (a year, a month, a day), or None."""
    text = str(value)
    if not text or len(text) > digits or not text.isascii() or not text.isdigit():
        return None
    return int(text)


def local_redirect_target(request, target: str | None) -> str | None:
    """`target` if it is a path on this site ("/board/"), else None.

    A bare word such as "abc" is not accepted: `redirect()` would take it for a URL name and fail.
    """
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return None
    return target
