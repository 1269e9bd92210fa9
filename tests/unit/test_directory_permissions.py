"""The directory's permission rules as pure functions of (caller, contact): every role and relation against every
action, and the rules that tell a view-only member from an editor."""
from __future__ import annotations

import pytest

from chalicelib.directory import permissions
from chalicelib.auth.identity import Caller
from chalicelib.store import roles
from chalicelib.store.contacts import Contact

TENANT = "tnperm0001"
DIM = "dim-aaaa"


def contact(**overrides) -> Contact:
    fields = dict(name="客户甲", source="manual", adder_id="adder", visible_members=["adder", "viewer"],
                  share_list={"shared": {"permission": "view"}, "editor": {"permission": "edit"}},
                  follow_users={}, dimension_id=DIM, organisation_id="org-1")
    fields.update(overrides)
    return Contact(TENANT, "ct-1", **fields)


CALLERS = {
    "adder": Caller(TENANT, "adder"),
    "visible_member": Caller(TENANT, "viewer"),
    "shared_view": Caller(TENANT, "shared"),
    "shared_edit": Caller(TENANT, "editor"),
    "follower": Caller(TENANT, "follower"),
    "dimension_maintainer": Caller(TENANT, "dm", frozenset({roles.dimension_role(DIM)})),
    "other_dimension_maintainer": Caller(TENANT, "odm", frozenset({roles.dimension_role("dim-other")})),
    "directory_maintainer": Caller(TENANT, "wh", frozenset({roles.DIRECTORY_MAINTAINER})),
    "admin": Caller(TENANT, "boss", frozenset({roles.ADMIN})),
    "unrelated": Caller(TENANT, "nobody"),
    "other_tenant_admin": Caller("tnother0001", "boss", frozenset({roles.ADMIN})),
    "other_tenant_adder": Caller("tnother0001", "adder"),
}

#                        see    edit   share  account delete
EXPECTED = {
    "adder":                (True, True, True, True, True),
    "visible_member":       (True, False, False, False, False),
    "shared_view":          (True, False, False, False, False),
    "shared_edit":          (True, False, True, False, False),
    "follower":             (True, False, False, False, False),
    "dimension_maintainer": (True, True, True, True, True),
    "other_dimension_maintainer": (False, False, False, False, False),
    "directory_maintainer": (True, True, True, True, True),
    "admin":                (True, True, True, True, True),
    "unrelated":            (False, False, False, False, False),
    "other_tenant_admin":   (False, False, False, False, False),
    "other_tenant_adder":   (False, False, False, False, False),
}
RULES = (permissions.can_see, permissions.can_edit_basic, permissions.can_manage_sharing,
         permissions.can_see_account, permissions.can_delete)


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_each_role_and_relation_against_each_action(who):
    subject = contact(follow_users={"follower": {"remark": "老客户"}})
    assert tuple(rule(CALLERS[who], subject) for rule in RULES) == EXPECTED[who]


def test_allowed_actions_matches_the_rules():
    subject = contact()
    assert permissions.allowed_actions(CALLERS["shared_edit"], subject) == {
        "edit": False, "share": True, "account": False, "delete": False}
    assert permissions.allowed_actions(CALLERS["adder"], subject) == {
        "edit": True, "share": True, "account": True, "delete": True}


def test_a_contact_outside_any_dimension_is_seen_by_directory_maintainers_but_not_by_dimension_maintainers():
    subject = contact(dimension_id=None, organisation_id=None)
    assert not permissions.can_see(CALLERS["dimension_maintainer"], subject)
    assert permissions.can_see(CALLERS["directory_maintainer"], subject)
    assert permissions.can_see(CALLERS["adder"], subject)


def test_a_synced_customer_is_seen_by_its_followers_only_among_ordinary_members():
    subject = contact(source="wecom_customer", adder_id=None, visible_members=[], share_list={},
                      follow_users={"follower": {}})
    assert permissions.can_see(CALLERS["follower"], subject)
    assert not permissions.can_edit_basic(CALLERS["follower"], subject)
    assert not permissions.can_see(CALLERS["adder"], subject)


def test_removing_a_member_from_the_lists_removes_their_view():
    subject = contact(visible_members=["adder"], share_list={})
    assert not permissions.can_see(CALLERS["visible_member"], subject)
    assert not permissions.can_see(CALLERS["shared_edit"], subject)
    assert permissions.can_see(CALLERS["adder"], subject)


def test_an_unknown_share_permission_grants_viewing_only():
    subject = contact(share_list={"editor": {"permission": "owner"}})
    assert permissions.can_see(CALLERS["shared_edit"], subject)
    assert not permissions.can_manage_sharing(CALLERS["shared_edit"], subject)
