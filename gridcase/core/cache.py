"""The shared cache (Redis) that every web process sees: throttles, calendar versions.

`clear()` removes only this installation's keys (those under its KEY_PREFIX) instead of flushing the
whole Redis database, so a cache shared with other tenants, or with parallel test processes, keeps the
rest.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache


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
