"""Periodic jobs (Celery beat). Each entry expires just under its interval so a backlog never piles up.

Domain apps add their entries here; tasks are idempotent and catch up after downtime.
"""

from .env import env_int

# The two minute-scale jobs' periods (seconds). Lower only for a smoke run (`make smoke` uses 5).
OUTBOX_SECONDS = env_int("BEAT_OUTBOX_SECONDS", 60)
SLA_SWEEP_SECONDS = env_int("BEAT_SLA_SWEEP_SECONDS", 60)

BEAT_SCHEDULE: dict = {
    "deliver-notifications": {"task": "gridcase.notifications.tasks.deliver_pending",
                              "schedule": float(OUTBOX_SECONDS), "options": {"expires": int(OUTBOX_SECONDS * 0.9)}},
    # Case deadlines: warn, mark breaches, auto-escalate; works from stored deadlines so it catches up.
    "case-sla-sweep": {"task": "gridcase.cases.tasks.sla_sweep", "schedule": float(SLA_SWEEP_SECONDS),
                       "options": {"expires": int(SLA_SWEEP_SECONDS * 0.9)}},
    # Today's round and overdue visits; hourly so a missed run is caught up within the hour.
    "compute-due-visits": {"task": "gridcase.visits.tasks.compute_due_visits", "schedule": 3600.0,
                           "options": {"expires": 3500}},
    # Visit coverage's rollup: residents with a visit stored or a plan changed since the last run (visit writes
    # already rewrite theirs; this catches bulk loads and late commits).
    "refresh-visit-coverage": {"task": "gridcase.stats.tasks.refresh_visit_coverage", "schedule": 3600.0,
                               "options": {"expires": 3500}},
    # Dashboard rollups: the days whose cases changed since the last run, and today (figures lag ≤ 5 min).
    # Import jobs whose task was lost while the broker was down (claiming is a compare-and-set).
    "requeue-pending-imports": {"task": "gridcase.grids.tasks.requeue_pending_imports", "schedule": 300.0,
                                "options": {"expires": 290}},
    # 12345 callbacks a crash left unwritten (each stage once; the outbox sends them).
    "sync-hotline-callbacks": {"task": "gridcase.interop.tasks.sync_hotline_callbacks", "schedule": 300.0,
                               "options": {"expires": 290}},
    # Background jobs (exports, reports) whose task was lost are queued again; expired result files deleted.
    "sweep-jobs": {"task": "gridcase.jobs.tasks.sweep_jobs", "schedule": 300.0, "options": {"expires": 290}},
    # Hotspots (未诉先办): recurring problems of a category in a building, micro-grid or circle, or rising.
    "detect-hotspots": {"task": "gridcase.cases.tasks.detect_hotspots", "schedule": 3600.0,
                        "options": {"expires": 3500}},
    # Notices (居务公开): send scheduled ones whose time has come (once: compare-and-set), expire old ones.
    "publish-due-notices": {"task": "gridcase.notices.tasks.publish_due", "schedule": 60.0, "options": {"expires": 55}},
    # Campaigns: launches whose job was lost are queued again (the job resumes); reminders before the deadline.
    "requeue-campaign-launches": {"task": "gridcase.campaigns.tasks.requeue_stale_launches", "schedule": 300.0,
                                  "options": {"expires": 290}},
    "campaign-reminders": {"task": "gridcase.campaigns.tasks.campaign_reminders", "schedule": 3600.0,
                           "options": {"expires": 3500}},
    # Points: overdue visits cost their worker once per due date (the ledger's constraint decides).
    "points-overdue-visits": {"task": "gridcase.points.tasks.deduct_overdue_visits", "schedule": 3600.0,
                              "options": {"expires": 3500}},
    # Monthly partitions (case events, hops, visits, notifications): the next months exist before they start.
    "ensure-partitions": {"task": "gridcase.core.tasks.ensure_partitions", "schedule": 86400.0,
                          "options": {"expires": 86000}},
    "refresh-stats-rollups": {"task": "gridcase.stats.tasks.refresh_rollups", "schedule": 300.0,
                              "options": {"expires": 290}},
}
