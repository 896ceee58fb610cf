"""The event-replay property: whatever sequence of actions people try (allowed or refused), the stored case
equals the fold of its events, and the hop ledger agrees."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridcase.cases import state, sweep, workflow
from gridcase.cases.models import Case
from gridcase.core.errors import DomainError
from gridcase.grids.scoping import scope_for

from .conftest import assert_replays

User = get_user_model()
PEOPLE = ["worker", "grid_worker", "secretary", "dispatcher", "officer", "viewer", "admin"]


def data_for(action, city, case):
    return {
        "reject": {"reason": "不属实"}, "reopen": {"reason": "未解决"}, "resolve": {"note": "已处理"},
        "assign": {"assignee": city.worker.pk}, "whistle": {"departments": [city.department.pk]},
        "reply": {"note": "已到场"}, "score_department": {"department": city.department.pk, "score": 4},
        "request_extension": {"hours": 6, "reason": "等配件"}, "decide_extension": {"approve": True},
        "rate": {"rating": "dissatisfied" if case.pk % 2 else "satisfied"},
        "callback": {"rating": "dissatisfied" if case.pk % 2 else "satisfied", "comment": "回访",
                     "called_at": timezone.now().isoformat()},
        "merge": {"into": case.pk - 1},
    }.get(action, {})


steps = st.lists(st.tuples(st.sampled_from(PEOPLE), st.sampled_from(state.ACTIONS), st.booleans(),
                           st.booleans(), st.integers(0, 99)), min_size=1, max_size=25)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps)
def test_random_histories_replay_to_the_stored_state(city, make_case, steps):
    make_case(title="被合并的目标")
    case = make_case()
    now = case.created_at
    for persona, action, stale, swept, pick in steps:
        user = User.objects.get(username=getattr(city, persona).username)
        # Mostly what the screen offers this person; sometimes anything at all.
        offered = workflow.allowed_actions(workflow.load(case.pk, None), scope_for(user))
        if offered and pick % 4:
            action = offered[pick % len(offered)]
        case.refresh_from_db()
        try:
            workflow.apply(case.pk, action, user, data_for(action, city, case),
                           version=case.version - 1 if stale else case.version)
        except DomainError:
            pass
        if swept:
            now += timedelta(days=3)
            sweep.sweep(now=now)
    assert_replays(case)


def test_every_case_in_a_busy_day_replays(city, make_case, drive, act):
    cases = [make_case(title=f"事件{i}") for i in range(6)]
    drive(cases[0], "accept", "assign", "start", "resolve", "verify", "close")
    drive(cases[1], "accept", "assign", "start", "resolve")
    act(city.grid_worker, cases[1], "reopen", reason="复核未通过")
    act(city.worker, cases[2], "escalate")
    act(city.grid_worker, cases[2], "escalate")
    drive(cases[3], "accept")
    act(city.secretary, cases[3], "whistle", departments=[city.department.pk])
    act(city.officer, cases[3], "reply", note="已处理")
    act(city.secretary, cases[4], "merge", into=cases[5].pk)
    sweep.sweep(now=cases[5].sla_red_at + timedelta(days=1))
    for case in Case.objects.all():
        assert_replays(case)
