from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "podpiska.catalog"
    label = "catalog"
    verbose_name = "Каталог тарифов"
