from celery import shared_task

from . import sweep


@shared_task(ignore_result=True)
def sla_sweep():
    """Warn, mark and escalate cases past their stored deadlines. Idempotent; catches up after downtime."""
    return sweep.sweep()


@shared_task(ignore_result=True)
def detect_hotspots():
    """Find and store hotspots (未诉先办). Idempotent: a rerun over the same cases changes nothing."""
    from . import hotspots

    return str(hotspots.run())
