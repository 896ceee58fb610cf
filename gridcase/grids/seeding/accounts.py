"""Departments a street can whistle, and the accounts: superusers, a login per member of each node (its
role and title) and an officer per department, all with the demo password hashed once."""

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from gridcase.core.bulk import CopyTable, reset_sequence
from gridcase.core.seeding import DEMO_PASSWORD

from ..models import Department, DepartmentMember, Membership

User = get_user_model()


def load_departments_and_users(loader):
    now = loader.now
    password = make_password(DEMO_PASSWORD)  # one hash for every demo account: hashing is slow on purpose
    existing = set(User.objects.values_list("username", flat=True))
    users, memberships, departments, officers = [], [], [], []
    user_ids: dict = {}

    def user(username, display, superuser=False):
        if username in user_ids or username in existing:
            return user_ids.get(username)
        uid = loader.ids.take(User)
        user_ids[username] = uid
        users.append((uid, password, None, superuser, username, display, "", f"{username}@demo.gridcase.local",
                      superuser, True, now))
        return uid

    for username in loader.plan.superusers:
        user(username, "系统管理员", superuser=True)
    for node in loader.plan.nodes:
        for username, role, title in node.members:
            uid = user(username, loader.people.name(loader.people.gender(), 1975))
            if uid:
                memberships.append((loader.ids.take(Membership), uid, node.id, role, title, now, now))
    for code, name, kind, area, officer in loader.plan.departments:
        dept_id = loader.ids.take(Department)
        departments.append((dept_id, code, name, kind, area.id, "028-8" + f"{loader.rng.randrange(10 ** 7):07d}",
                            now, now))
        uid = user(officer, loader.people.name(loader.people.gender(), 1980))
        if uid:
            officers.append((loader.ids.take(DepartmentMember), uid, dept_id, True, now, now))
    user_table = CopyTable(User, ["id", "password", "last_login", "is_superuser", "username", "first_name",
                              "last_name", "email", "is_staff", "is_active", "date_joined"], now)
    loader.count("users", user_table.copy(users))
    loader.count("memberships", CopyTable(Membership, ["id", "user_id", "grid_id", "role", "title", "created_at",
                                                 "updated_at"], now).copy(memberships))
    loader.count("departments", CopyTable(Department, ["id", "code", "name", "kind", "area_id", "phone", "created_at",
                                                 "updated_at"], now).copy(departments))
    loader.count("department members", CopyTable(DepartmentMember, ["id", "user_id", "department_id", "is_head",
                                                              "created_at", "updated_at"], now).copy(officers))
    for model in (User, Membership, Department, DepartmentMember):
        reset_sequence(model)

