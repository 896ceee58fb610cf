"""The shared cache (Redis) that every web process sees: throttles, calendar versions, and the versions of the
small tables each process keeps a copy of (`KeptCopy`).

`clear()` removes only this installation's keys (those under its KEY_PREFIX) instead of flushing the
whole Redis database, so a cache shared with other tenants, or with parallel test processes, keeps the
rest.
"""

import logging
import uuid

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

log = logging.getLogger(__name__)


class RedisCache(DjangoRedisCache):
    def clear(self):
        client = self._cache.get_client(write=True)
        batch = []
        for key in client.scan_iter(match=f"{self.key_prefix}:*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                client.delete(*batch)
                batch = []
        if batch:
            client.delete(*batch)
        return True


class KeptCopy:
    """A small table (tens of rows) that this process keeps, checked against a version in the shared cache on every
    use: one cache read instead of a query, and never a row changed before the caller asked. `load()` reads the
    rows. Any change calls `invalidate()` (the model's post_save/post_delete; bulk writes themselves), which bumps
    the version at once and again on commit. A copy is kept only when it was read outside a transaction (a read
    inside may hold that transaction's uncommitted writes) and only when the cache is shared by the processes
    (Redis; not the development's per-process memory cache): otherwise every use reads the table."""

    def __init__(self, key: str, load):
        self.key, self.load = key, load
        self._held = None  # (version, rows)

    @staticmethod
    def _shared():
        from django.conf import settings
        from django.core.cache import cache

        backend = settings.CACHES["default"]["BACKEND"]
        return None if backend.endswith(("LocMemCache", "DummyCache")) else cache

    def version(self):
        """The version in the shared cache (set when missing); None when there is none to read."""
        cache = self._shared()
        if cache is None:
            return None
        try:
            version = cache.get(self.key)
            if version is None:
                cache.add(self.key, uuid.uuid4().hex, None)
                version = cache.get(self.key)
            return version
        except Exception:  # noqa: BLE001 - a cache outage must not stop the caller: read the table
            return None

    def rows(self):
        from django.db import connection

        version = self.version()  # before the rows: a change committed after this read bumps it again
        held = self._held
        if held is not None and version is not None and held[0] == version:
            return held[1]
        rows = self.load()
        if version is not None and not connection.in_atomic_block:
            self._held = (version, rows)
        return rows

    def forget(self) -> None:
        """Drop this process's copy (the next use reads the table)."""
        self._held = None

    def invalidate(self) -> None:
        """The table changed: drop the copy here now and in every process (again once the transaction commits, so
        no process keeps a copy read before the commit)."""
        from django.db import transaction

        def publish():
            self.forget()
            cache = self._shared()
            if cache is None:
                return
            try:
                cache.set(self.key, uuid.uuid4().hex, None)
            except Exception:  # noqa: BLE001
                log.warning("Could not publish a change of %s to the shared cache", self.key)

        publish()
        try:
            transaction.on_commit(publish)
        except Exception:  # noqa: BLE001 - no usable connection: the immediate publish has done it
            pass
