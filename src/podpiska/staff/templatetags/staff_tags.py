from django import template

from podpiska.core.money import format_rub

register = template.Library()


@register.filter
def rub(kopecks):
    """Kopecks as people read them: «134 400,00 ₽»."""
    if kopecks in (None, ""):
        return ""
    return format_rub(int(kopecks))


@register.filter
def local(value, organization):
    """A moment in the organization's time zone."""
    if value is None:
        return None
    return value.astimezone(organization.tz)
