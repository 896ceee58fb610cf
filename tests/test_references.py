"""A reference to another object in a request body (a foreign key given by id) resolves only inside the caller's
scope (`api.base.ScopedPrimaryKeyField`): an id outside it is a 400 at validation that names the id, and nothing
is written. The meta-test checks that every writable reference of every serializer the API uses is one."""

import inspect

import pytest
from rest_framework import relations, serializers

from api.base import ScopedPrimaryKeyField
from gridcase.cases.models import Case, Category
from gridcase.grids.models import Building, Household, Membership, Resident, Unit
from gridcase.visits.models import Visit

# References that name rows every caller may name, by a slug rather than an id (resident tags).
NOT_BY_ID = {("ResidentSerializer", "tags")}


def request_bodies():
    """(operation, serializer) for every body the API's operations take, as the OpenAPI document describes them."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.settings import spectacular_settings

    generator = SchemaGenerator()
    generator._initialise_endpoints()
    for path, _regex, method, view in generator._get_paths_and_endpoints():
        if method not in ("POST", "PUT", "PATCH"):
            continue
        view.request = spectacular_settings.GET_MOCK_REQUEST(method, path, view, None)
        view.schema.path, view.schema.method = path, method
        body = view.schema.get_request_serializer()
        for item in (body.values() if isinstance(body, dict) else [body]):
            if inspect.isclass(item) and issubclass(item, serializers.BaseSerializer):
                item = item()
            if isinstance(item, serializers.BaseSerializer):
                yield f"{method} {path}", getattr(item, "child", item)


def writable_references(serializer, path=""):
    for name, field in serializer.fields.items():
        if field.read_only:
            continue
        if isinstance(field, relations.ManyRelatedField):
            field = field.child_relation
        if isinstance(field, relations.RelatedField):
            yield f"{path}{name}", field
        elif isinstance(field, serializers.BaseSerializer):
            yield from writable_references(getattr(field, "child", field), f"{path}{name}.")


def test_every_reference_in_a_body_is_scoped():
    found, loose = set(), []
    for operation, serializer in request_bodies():
        for name, field in writable_references(serializer):
            found.add((type(serializer).__name__, name))
            if (type(serializer).__name__, name) not in NOT_BY_ID and not isinstance(field, ScopedPrimaryKeyField):
                loose.append(f"{operation} {type(serializer).__name__}.{name}: {type(field).__name__}")
    assert len(found) >= 15, found  # the walk does see the API's references
    assert loose == []


def _category():
    return Category.objects.filter(is_active=True).order_by("id").first()


# persona, URL, body (from the city), the field naming the outside id, the model that must stay unchanged
OUTSIDE = [
    ("secretary", "/api/v1/buildings/", lambda c: {"code": "X-B1", "name": "外楼", "grid": c.other_grid.pk},
     "grid", Building),
    ("secretary", "/api/v1/units/", lambda c: {"building": c.building.pk, "name": "9单元", "micro_grid": c.other_micro.pk},
     "micro_grid", Unit),
    ("secretary", "/api/v1/households/", lambda c: {"unit": c.other_household.unit_id, "room": "909"}, "unit", Household),
    ("worker", "/api/v1/residents/", lambda c: {"household": c.sibling_household.pk, "name": "某人"}, "household",
     Resident),
    ("secretary", "/api/v1/memberships/", lambda c: {"user": c.outsider.pk, "grid": c.micro.pk, "role": "viewer"},
     "user", Membership),
    ("secretary", "/api/v1/memberships/",
     lambda c: {"user": c.sibling_worker.pk, "grid": c.other_micro.pk, "role": "viewer"}, "grid", Membership),
    ("worker", "/api/v1/cases/", lambda c: {"category": _category().pk, "grid": c.micro.pk, "title": "漏水",
                                            "resident": c.other_resident.pk}, "resident", Case),
    ("worker", "/api/v1/cases/", lambda c: {"category": _category().pk, "grid": c.micro.pk, "title": "漏水",
                                            "building": c.other_household.unit.building_id}, "building", Case),
    ("worker", "/api/v1/visits/", lambda c: {"client_uuid": "5b0f7a8e-7a0b-4c53-9a53-2f3f5f0f0099",
                                             "household": c.other_household.pk, "kind": "home",
                                             "visited_at": "2026-01-05T10:00:00+08:00", "wellbeing": "good"},
     "household", Visit),
]


@pytest.mark.parametrize("persona,url,make,field,model", OUTSIDE,
                         ids=[f"{u.split('/')[3]}-{f}" for _p, u, _m, f, _mo in OUTSIDE])
def test_an_outside_reference_is_refused_at_validation(city, client_for, persona, url, make, field, model):
    body = make(city)
    before = model.objects.count()
    response = client_for(getattr(city, persona), "en").post(url, body, format="json")
    assert response.status_code == 400, response.content
    data = response.json()
    assert data["code"] == "validation_error" and list(data["fields"]) == [field]
    assert str(body[field]) in " ".join(data["fields"][field])
    assert model.objects.count() == before


def test_an_inactive_category_is_refused_in_a_visits_case_too(city, client_for):
    category = _category()
    Category.objects.filter(pk=category.pk).update(is_active=False)
    response = client_for(city.worker, "en").post("/api/v1/visits/", {
        "client_uuid": "5b0f7a8e-7a0b-4c53-9a53-2f3f5f0f0098", "resident": city.resident.pk, "kind": "home",
        "visited_at": "2026-01-05T10:00:00+08:00", "wellbeing": "good",
        "open_case": {"category": category.pk, "title": "漏水"}}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"]["open_case"] == [f"Nothing with id {category.pk} in your area."]
    assert not Visit.objects.exists()
