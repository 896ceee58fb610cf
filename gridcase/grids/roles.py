"""Every named set of grid roles, defined once, each with who they are.

The roles themselves are `choices.Role`. A role held on a grid counts on that grid and everything below it
(`scoping.Scope.roles_at`). A set that means the same people as another under a second name is written as that
other set, so the two cannot drift apart.
"""

from .choices import Role as R

ROLE_RANK = {
    R.VIEWER: 0,
    R.MICRO_GRID_WORKER: 1,
    R.GRID_WORKER: 2,
    R.GRID_LEADER: 3,
    R.SECRETARY: 4,
    R.STREET_DISPATCHER: 5,
    R.ADMIN: 6,
}
"""Seniority: a manager may grant and change only roles ranked below their own (grids.accounts)."""

HIGHEST_FIRST = tuple(sorted(ROLE_RANK, key=ROLE_RANK.__getitem__, reverse=True))
"""The roles by seniority, highest first: a user's primary role is the first one they hold (api.auth `home`)."""

# --- people and places ---------------------------------------------------------------------------------------------

EDITOR_ROLES = frozenset({R.MICRO_GRID_WORKER, R.GRID_WORKER, R.GRID_LEADER, R.SECRETARY, R.ADMIN})
"""The grid's workers, leaders and secretaries: change people and places (buildings, households, residents,
imports) on the grids they hold."""

VISIT_ROLES = EDITOR_ROLES
"""Log a visit to a resident of a grid they hold (the people who edit that grid's residents)."""

PLAN_EDIT_ROLES = EDITOR_ROLES
"""Change a resident's care plan (cadences) on a grid they hold (the people who edit that grid's residents)."""

PHONE_ROLES = frozenset({R.MICRO_GRID_WORKER, R.GRID_WORKER, R.GRID_LEADER, R.SECRETARY, R.ADMIN})
"""Read a resident's phone number in clear (audited) on the grids they hold: whoever calls residents."""

ID_NUMBER_ROLES = frozenset({R.GRID_WORKER, R.SECRETARY, R.ADMIN})
"""Read a resident's ID number in clear (audited) on the grids they hold: full-time grid workers, secretaries."""

FIELD_WORKERS = frozenset({R.MICRO_GRID_WORKER, R.GRID_WORKER})
"""A grid's own workers (微网格员 on a micro-grid, 专职网格员 on its general grid): a resident's QR report
names them and the grid's visits are theirs."""

URGENT_VISIT_ROLES = frozenset({R.GRID_WORKER, R.SECRETARY})
"""Told of an urgent visit on a grid they hold or below it: the full-time grid worker and the secretary."""

MANAGER_ROLES = frozenset({R.SECRETARY, R.STREET_DISPATCHER, R.ADMIN})
"""Secretaries, street dispatchers, administrators: manage accounts and memberships inside their subtree and see
the operator warnings (holiday calendar)."""

AUDIT_READERS = MANAGER_ROLES
"""Read the audit log (who revealed a resident's phone or ID number, read a sensitive case, moved a resident out)
for the grids they hold: secretaries for their community, the street's dispatchers (its inspectors), administrators."""

STREET_ROLES = frozenset({R.STREET_DISPATCHER, R.ADMIN})
"""The street's dispatchers and administrators."""

TREE_ROLES = STREET_ROLES
"""Shape the grid tree and its departments below the grids they hold (the street)."""

REVIEW_ROLES = STREET_ROLES
"""Decide the import rows held for review (an ID number registered elsewhere) on the grids they hold (the street)."""

# --- cases ---------------------------------------------------------------------------------------------------------

CASE_STAFF = frozenset({R.GRID_WORKER, R.GRID_LEADER, R.SECRETARY, R.STREET_DISPATCHER, R.ADMIN})
"""Handle a case owned at a grid they hold or below it: accept, assign, verify, close, decide extensions."""

CASE_LEADS = frozenset({R.GRID_LEADER, R.SECRETARY, R.STREET_DISPATCHER, R.ADMIN})
"""Grid leaders and everyone above them: whistle departments (吹哨) and score how they answered."""

CASE_WORKERS = CASE_STAFF | {R.MICRO_GRID_WORKER}
"""Everyone who works cases, micro-grid workers included: report a case, escalate, attach files."""

SENSITIVE_ROLES = frozenset({R.GRID_WORKER, R.GRID_LEADER, R.SECRETARY, R.ADMIN})
"""See sensitive cases (mental health, minors, domestic violence) inside the grids they hold; not the micro-grid
worker, the street dispatcher or a viewer (a dispatcher sees one only once its owner grid is the street's own)."""

SENSITIVE_CLOSERS = frozenset({R.SECRETARY, R.ADMIN})
"""Close a sensitive case: the secretary (or an administrator)."""

SUPERVISORS = frozenset({R.STREET_DISPATCHER, R.SECRETARY, R.ADMIN})
"""Supervise (督办) an unfinished case owned by a grid below them: the street's dispatcher or a secretary."""

# --- which app ------------------------------------------------------------------------------------------------------

CONSOLE_ROLES = MANAGER_ROLES
"""Work in the console (a browser at a desk): the managers."""

MOBILE_ROLES = frozenset({R.MICRO_GRID_WORKER, R.GRID_WORKER, R.GRID_LEADER})
"""Work in the mobile app, on the street: micro-grid workers, grid workers and grid leaders."""

# --- notices and volunteers (居务公开, 楼栋长/志愿者) ------------------------------------------------------------------

NOTICE_PUBLISHERS = frozenset({R.GRID_LEADER, R.SECRETARY, R.STREET_DISPATCHER, R.ADMIN})
"""Publish a notice or an emergency broadcast to the grids they hold and below, and follow its read receipts."""

NOTICE_RECIPIENTS = frozenset({R.MICRO_GRID_WORKER, R.GRID_WORKER, R.GRID_LEADER, R.SECRETARY, R.STREET_DISPATCHER})
"""Receive a notice sent to "workers" inside their grid's subtree (everyone but viewers and administrators)."""

VOLUNTEER_MANAGERS = EDITOR_ROLES
"""Register a building or unit lead or a volunteer on a grid they hold, give them a light account, confirm their
neighbour check-ins and record attendance at volunteer activities: the grid's workers and above."""
