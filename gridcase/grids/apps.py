from django.apps import AppConfig


class GridsConfig(AppConfig):
    name = "gridcase.grids"
    label = "grids"
    verbose_name = "网格"
