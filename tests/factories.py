"""Factories for tests: a small street with two communities, places, people and personas."""

import itertools

import factory
from django.contrib.auth import get_user_model

from gridcase.grids.choices import Level
from gridcase.grids.models import (
    Building,
    Department,
    DepartmentMember,
    Grid,
    Household,
    Membership,
    Resident,
    Unit,
)

User = get_user_model()
_seq = itertools.count(1)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("name", locale="zh_CN")
    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or "pass-1234")
        if create:
            obj.save(update_fields=["password"])


def grid(code, name, level, parent=None, **kw):
    return Grid.objects.create(code=code, name=name, level=level, parent=parent, **kw)


def building(general_grid, name=None):
    n = next(_seq)
    return Building.objects.create(grid=general_grid, code=f"B{n}", name=name or f"{n}栋")


def unit(bldg, micro, name="1单元"):
    return Unit.objects.create(building=bldg, micro_grid=micro, name=name)


def household(u, room=None):
    return Household.objects.create(unit=u, room=room or f"{next(_seq)}室")


def resident(hh, name="张三", phone="13812345678", id_number="110101194001011234", tags=(), **kw):
    r = Resident(household=hh, name=name, **kw)
    r.phone = phone
    r.id_number = id_number
    r.save()
    if tags:
        from gridcase.grids.models import Tag

        r.tags.set(Tag.objects.filter(code__in=tags))
    return r


def member(user, g, role):
    Membership.objects.create(user=user, grid=g, role=role)
    return user


def department(code="water", name="自来水公司", area=None):
    return Department.objects.create(code=code, name=name, area=area)


def officer(dept, username="officer"):
    u = UserFactory(username=username)
    DepartmentMember.objects.create(user=u, department=dept)
    return u


LEVEL = Level
