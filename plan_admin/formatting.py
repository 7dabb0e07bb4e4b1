"""One formatting rule for the whole app: messages, board pages, reports page and admin alike.

- years are never grouped: 2025, not "2,025"
- share counts are grouped: 10,000,000
- money carries its currency and the decimals it needs: $1,234.50, $0.15, $0.001 (par shows three)
- people by full name, the username when there is none (templates add the username on hover)
"""

import datetime
from decimal import Decimal


def shares(value: int) -> str:
    return f"{int(value):,}"


def year(value: int | str | None) -> str:
    """A calendar year as written: 2025 (USE_THOUSAND_SEPARATOR would make it "2,025")."""
    if value in (None, ""):
        return "—"
    return str(int(value))


def money(value: Decimal | int | float) -> str:
    """Dollars with thousands separators and no trailing zeros past the cents: $1,234.50, $0.001."""
    amount = Decimal(value)
    sign = "-" if amount < 0 else ""
    text = f"{abs(amount):,.6f}".rstrip("0")
    whole, _, fraction = text.partition(".")
    return f"{sign}${whole}.{fraction.ljust(2, '0')}"


def person(user) -> str:
    """A user by full name, else username; "—" for nobody."""
    if user is None or user == "":
        return "—"
    get_full_name = getattr(user, "get_full_name", None)
    name = get_full_name().strip() if get_full_name else ""
    return name or str(getattr(user, "username", user))


def username(user) -> str:
    return str(getattr(user, "username", "") or "") if user else ""


def day(value: datetime.date | None) -> str:
    return value.strftime("%B %-d, %Y") if value else "not yet recorded"
