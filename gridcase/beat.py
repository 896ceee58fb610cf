"""Periodic jobs (Celery beat). Each entry expires just under its interval so a backlog never piles up.

Domain apps add their entries here; tasks are idempotent and catch up after downtime.
"""

BEAT_SCHEDULE: dict = {
    "deliver-notifications": {"task": "gridcase.notifications.tasks.deliver_pending", "schedule": 60.0,
                              "options": {"expires": 55}},
}
