from __future__ import annotations

from orderhub.domain.actors import Actor
from orderhub.domain.transitions import Action
from orderhub.permissions import ACTION_PERMISSIONS, ROLES, Permission, can_void, permissions_of


def _actor(role: str) -> Actor:
    return Actor(id=role, name=role, role=role, permissions=permissions_of(role))


def test_every_action_has_its_own_named_permission() -> None:
    assert {p.value for p in ACTION_PERMISSIONS.values()} == {f"order.{a.value}" for a in Action}


def test_only_supervisors_and_admins_may_void() -> None:
    assert [role for role in ROLES if can_void(_actor(role))] == ["admin", "supervisor"]


def test_the_six_roles_exist() -> None:
    assert set(ROLES) == {
        "admin",
        "supervisor",
        "operator",
        "warehouse",
        "customer_service",
        "agent",
    }


def test_an_unknown_role_has_no_permissions() -> None:
    assert permissions_of("intruder") == frozenset()


def test_admin_has_every_permission() -> None:
    assert ROLES["admin"] == frozenset(Permission)
