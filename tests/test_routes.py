"""Routes are registered one way: every package under api/ is a domain with a urls.py (`urlpatterns` and
`register(router)`), listed once in api.urls.DOMAINS."""

import importlib
import pkgutil

import api
from api import urls


def test_every_domain_package_registers_its_routes_the_same_way():
    packages = {info.name for info in pkgutil.iter_modules(api.__path__) if info.ispkg}
    assert sorted(urls.DOMAINS) == sorted(packages)
    assert len(set(urls.DOMAINS)) == len(urls.DOMAINS)
    for name in urls.DOMAINS:
        module = importlib.import_module(f"api.{name}.urls")
        assert callable(module.register) and isinstance(module.urlpatterns, list), name
