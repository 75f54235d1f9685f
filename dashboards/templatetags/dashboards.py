from django import template

register = template.Library()


@register.filter
def metric(value):
    if value is None:
        return "n/a"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}"


@register.filter
def signed(value):
    if value is None:
        return ""
    text = metric(abs(value))
    return f"+{text}" if value > 0 else f"−{text}"


@register.filter
def signed_pct(value):
    if value is None:
        return ""
    return f"{'+' if value > 0 else '−'}{abs(value):.1f} %"
