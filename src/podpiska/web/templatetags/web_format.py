from django import template

from podpiska.core.money import format_rub

register = template.Library()


@register.filter
def rub(kopecks) -> str:
    """Kopecks as people read a price: «134 400,00 ₽»."""
    return format_rub(int(kopecks))
