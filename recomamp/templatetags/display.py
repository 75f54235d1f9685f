"""Template filters for recomamp.display: {% load display %} then |duration, |num, |is_number, |in_zone,
|window_text and |window_sent."""

from django import template

from recomamp.display import duration, in_zone, is_number, num, window_sent, window_text

register = template.Library()
register.filter("duration", duration)
register.filter("num", num)
register.filter("is_number", is_number)
register.filter("in_zone", in_zone)
register.filter("window_text", window_text)
register.filter("window_sent", window_sent)
