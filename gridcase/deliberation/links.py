"""A case's links to deliberation, for its detail: the topics raised from it and the topic whose follow-up action
it is, as far as the caller may see them. `annotations(scope)` reads both in the query that loads the case (as
the hop ledger and the duplicates do, cases/merged.py); `links_of(case_id, scope)` where no annotation was made.
"""

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef, Subquery
from django.db.models.functions import JSONObject

from .models import Topic, TopicAction


def _topics(scope):
    qs = Topic.objects.all()
    return qs.restrict(scope) if scope is not None else qs


def _raised(scope):
    return _topics(scope).order_by("id").values(json=JSONObject(id="id", title="title", status="status"))


def _action(scope):
    return TopicAction.objects.filter(topic__in=_topics(scope).values("id")).values(json=JSONObject(
        action="id", title="title", topic="topic_id", topic_title="topic__title", topic_status="topic__status"))


def annotations(scope) -> dict:
    return {"topic_rows": ArraySubquery(_raised(scope).filter(case_id=OuterRef("pk"))),
            "topic_action_row": Subquery(_action(scope).filter(case_id=OuterRef("pk"))[:1])}


def present(case) -> dict | None:
    rows = getattr(case, "topic_rows", None)
    if rows is None:
        return None
    return {"raised": list(rows), "action_of": getattr(case, "topic_action_row", None)}


def links_of(case, scope) -> None:
    """Fill what `annotations` would have (two queries)."""
    case.topic_rows = [r["json"] for r in _raised(scope).filter(case_id=case.pk)]
    row = _action(scope).filter(case_id=case.pk).first()
    case.topic_action_row = row["json"] if row else None
