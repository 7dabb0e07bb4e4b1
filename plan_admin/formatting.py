"""How numbers and dates read in messages and reports ("10,000,000 shares", "$0.001")."""

import datetime
from decimal import Decimal


def shares(value: int) -> str:
    return f"{value:,}"


def money(value: Decimal | int | float) -> str:
    """Dollars with thousands separators and no trailing zeros past the cents: $1,234.50, $0.001."""
    amount = Decimal(value)
    text = f"{amount:,.6f}".rstrip("0")
    whole, _, fraction = text.partition(".")
    return f"${whole}.{fraction.ljust(2, '0')}"


def day(value: datetime.date | None) -> str:
    return value.strftime("%B %-d, %Y") if value else "not yet recorded"
