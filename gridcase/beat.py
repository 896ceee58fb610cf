"""Periodic jobs (Celery beat). Each entry expires just under its interval so a backlog never piles up.

Domain apps add their entries here; tasks are idempotent and catch up after downtime.
"""

BEAT_SCHEDULE: dict = {}
