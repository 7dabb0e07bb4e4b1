"""Template filters for plan_admin.formatting's one rule: years plain, shares grouped, money with its currency and
the decimals it needs, people by full name with the username on hover. Used by the board pages, the reports page and
(through the same functions) the admin."""

from django import template
from django.utils.html import format_html

from plan_admin import formatting

register = template.Library()


@register.filter
def money(value) -> str:
    """$1,234.50, $0.001: dollars with separators and no trailing zeros past the cents."""
    if value in (None, ""):
        return "—"
    return formatting.money(value)


@register.filter
def shares(value) -> str:
    """A share count, grouped: 1,500,000."""
    if value in (None, ""):
        return "—"
    return formatting.shares(value)


@register.filter
def shares_abs(value) -> str:
    """A share count without its sign, grouped: -500000 -> 500,000 (the sentence says increase or decrease)."""
    if value in (None, ""):
        return "—"
    return formatting.shares(abs(int(value)))


@register.filter
def year(value) -> str:
    """A calendar year, never grouped: 2025."""
    return formatting.year(value)


@register.filter
def person(user) -> str:
    """A user's full name with the username on hover: <span title="staff">Sam Staff</span>; "—" for nobody."""
    if not user:
        return "—"
    return format_html('<span class="person" title="{}">{}</span>', formatting.username(user), formatting.person(user))


@register.simple_tag(takes_context=True)
def page_link(context, parameter: str, number: int) -> str:
    """The current page's query string with `parameter` set to `number` (the other sections keep their page)."""
    query = context["request"].GET.copy()
    query[parameter] = number
    return "?" + query.urlencode()
