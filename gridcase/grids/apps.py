from django.apps import AppConfig


class GridsConfig(AppConfig):
    name = "gridcase.grids"
    label = "grids"
    verbose_name = "网格"

    def ready(self):
        from . import (
            accounts,  # noqa: F401 - connects the signal that ends API tokens on a password change
            geo,  # noqa: F401 - connects the signals that drop the boundaries' spatial index
        )
