from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def money(value, currency: str = "") -> str:
    """'120,000 USD', '412.50 EUR'; '—' when there is no value."""
    if value is None or value == "":
        return "—"
    value = Decimal(value)
    text = f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"
    return f"{text} {currency}".strip()


@register.filter
def person(user) -> str:
    """A user's full name, or their username; '—' for nobody."""
    if user is None:
        return "—"
    return user.get_full_name() or user.username
