"""Template filters that read numbers the way plan_admin.formatting writes them in messages."""

from django import template

from plan_admin import formatting

register = template.Library()


@register.filter
def money(value) -> str:
    """$1,234.50, $0.001: dollars with separators and no trailing zeros past the cents."""
    if value in (None, ""):
        return "—"
    return formatting.money(value)


@register.filter
def shares_abs(value) -> str:
    """A share count without its sign, grouped: -500000 -> 500,000 (the sentence says increase or decrease)."""
    if value in (None, ""):
        return "—"
    return formatting.shares(abs(int(value)))
