"""The contact write path's rules as pure functions: who is on the front list, what an entry shows, which index keys
a change derives, and what a change must put before the contact is written."""
from __future__ import annotations

import pytest

from chalicelib.directory import contact_writes
from chalicelib.directory.contact_writes import Change
from chalicelib.store.contacts import Contact

TENANT = "tnwrite001"


def contact(contact_id: str = "ct-1", **overrides) -> Contact:
    fields = dict(name="客户甲", source="manual", mobile="13800000000", email=None, position="采购",
                  organisation_id="org-1", org_name="云杉科技", department_id="dep-1", dimension_id="dim-1",
                  adder_id="adder", visible_members=["adder", "viewer"],
                  share_list={"shared": {"permission": "view"}}, follow_users={}, version=3)
    fields.update(overrides)
    return Contact(TENANT, contact_id, **fields)


def customer(**overrides) -> Contact:
    fields = dict(source="wecom_customer", external_userid="wmext1", adder_id=None, visible_members=None,
                  share_list=None, follow_users={"zhangsan": {"remark": "老客户"}, "lisi": {}}, department_id=None)
    fields.update(overrides)
    return contact("wx-wmext1", **fields)


def never(_record: dict) -> bool:
    raise AssertionError("planning never writes")


# --- who is on the front list -----------------------------------------------------------------------------------
def test_the_front_list_holds_the_adder_visible_members_share_list_and_followers():
    assert contact_writes.front_list_members("a", ["b", "c"], {"d": {}}, ["e"]) == {"a", "b", "c", "d", "e"}
    assert contact_writes.front_list_members(None, None, None, ()) == frozenset()
    assert contact_writes.members_of(contact()) == {"adder", "viewer", "shared"}
    assert contact_writes.members_of(customer()) == {"zhangsan", "lisi"}
    assert contact_writes.members_of(None) == frozenset()


def test_an_entry_shows_the_list_fields_and_nothing_else():
    entry = contact_writes.front_list_entry("ct-1", {"name": "甲", "organisation_id": "", "org_name": None,
                                                     "position": "经理", "mobile": "", "email": "a@b.c",
                                                     "source": "manual", "remark": "secret", "adder_id": "x"})
    assert entry == {"contactId": "ct-1", "name": "甲", "organisationId": None, "orgName": None,
                     "position": "经理", "mobile": None, "email": "a@b.c", "source": "manual"}


# --- index keys -----------------------------------------------------------------------------------------------------
def test_keys_follow_only_from_the_fields_that_changed():
    view = {"organisation_id": "org-1", "department_id": "dep-1", "dimension_id": "dim-1", "unionid": "u1"}
    assert contact_writes.index_keys(TENANT, "ct-1", view, {"name"}) == {}
    assert contact_writes.index_keys(TENANT, "ct-1", view, {"department_id"}) == {
        "organisation_key": f"{TENANT}#org-1", "place_key": "dep-1#ct-1"}
    assert contact_writes.index_keys(TENANT, "ct-1", view, {"dimension_id", "unionid"}) == {
        "dimension_key": f"{TENANT}#dim-1", "union_key": f"{TENANT}#u1"}


def test_a_contact_filed_under_nothing_leaves_the_indexes():
    view = {"organisation_id": None, "department_id": "dep-1", "dimension_id": None, "unionid": None}
    keys = contact_writes.index_keys(TENANT, "ct-1", view, {"organisation_id", "dimension_id", "unionid"})
    assert keys == {"organisation_key": None, "place_key": None, "dimension_key": None, "union_key": None}


def test_a_contact_under_an_organisation_alone_sorts_before_its_departments():
    keys = contact_writes.index_keys(TENANT, "ct-1", {"organisation_id": "org-1", "department_id": None},
                                     {"organisation_id"})
    assert keys["place_key"] == "#ct-1"


# --- what a change looks like afterwards ----------------------------------------------------------------------------
def test_the_view_after_a_change_overlays_fields_on_the_stored_contact_and_defaults_on_what_is_missing():
    view = contact_writes.view_after(contact(source=None), {"name": "乙", "mobile": None},
                                     defaults={"source": "wecom_customer", "name": "never"})
    assert (view["name"], view["mobile"], view["source"], view["org_name"]) == ("乙", None, "wecom_customer",
                                                                                "云杉科技")


def test_followers_are_replaced_merged_or_dropped():
    stored = customer()
    replaced = contact_writes.view_after(stored, {"follow_users": {"wangwu": {}}})
    merged = contact_writes.view_after(stored, {}, merged_followers={"wangwu"})
    dropped = contact_writes.view_after(stored, {}, dropped_followers={"lisi"})
    assert set(replaced["follow_users"]) == {"wangwu"}
    assert set(merged["follow_users"]) == {"zhangsan", "lisi", "wangwu"}
    assert set(dropped["follow_users"]) == {"zhangsan"}


def test_what_the_indexes_hold_for_a_customer():
    held = contact_writes.stored_indexed(customer())
    assert held.entry_keys() == {("zhangsan", "org-1#wx-wmext1"), ("lisi", "org-1#wx-wmext1")}
    assert held.follows() == {("zhangsan", "wmext1"), ("lisi", "wmext1")}
    assert contact_writes.stored_indexed(contact()).follows() == set()  # not a customer: no follow relations


# --- what a change puts before the contact is written --------------------------------------------------------------
def plan(change: Change):
    return contact_writes._plan(change)


def test_a_new_contact_puts_an_entry_for_each_member_first():
    fields = {"name": "甲", "source": "manual", "organisation_id": "org-1", "department_id": None,
              "dimension_id": "dim-1", "adder_id": "adder", "visible_members": ["adder", "viewer"]}
    planned = plan(Change(TENANT, "ct-9", fields, never, creating=True))
    assert planned.put_entries == {("adder", "org-1#ct-9"), ("viewer", "org-1#ct-9")}
    assert planned.record["organisation_key"] == f"{TENANT}#org-1" and planned.record["place_key"] == "#ct-9"
    assert planned.record["dimension_key"] == f"{TENANT}#dim-1" and "updated_at" in planned.record


def test_adding_a_member_puts_only_their_entry_and_removing_one_puts_nothing():
    stored = contact()
    added = plan(Change(TENANT, "ct-1", {"visible_members": ["adder", "viewer", "new"]}, never, before=stored))
    assert added.put_entries == {("new", "org-1#ct-1")}
    removed = plan(Change(TENANT, "ct-1", {"visible_members": ["adder"]}, never, before=stored))
    assert removed.put_entries == set()
    assert removed.before.entry_keys() - removed.after.entry_keys() == {("viewer", "org-1#ct-1")}


def test_changing_what_the_list_shows_rewrites_every_entry():
    planned = plan(Change(TENANT, "ct-1", {"mobile": "13900000000"}, never, before=contact()))
    assert {user for user, _ in planned.put_entries} == {"adder", "viewer", "shared"}
    assert planned.after.entry["mobile"] == "13900000000"


def test_moving_a_contact_puts_its_entries_under_the_new_organisation():
    planned = plan(Change(TENANT, "ct-1", {"organisation_id": "org-2", "department_id": None,
                                          "org_name": "新公司", "dimension_id": "dim-1"}, never, before=contact()))
    assert {key for _, key in planned.put_entries} == {"org-2#ct-1"}
    assert planned.record["place_key"] == "#ct-1" and planned.record["organisation_key"] == f"{TENANT}#org-2"


def test_a_sync_page_puts_the_new_follow_relations_and_the_new_followers_entries():
    planned = plan(Change(TENANT, "wx-wmext1", {"sync_run": "r1"}, never, before=customer(),
                          merged_followers=frozenset({"wangwu", "lisi"})))
    assert planned.put_follows == {("wangwu", "wmext1")}
    assert planned.put_entries == {("wangwu", "org-1#wx-wmext1")}


def test_a_write_no_index_depends_on_is_planned_without_reading_the_contact():
    planned = plan(Change(TENANT, "ct-1", {"account_status": "pending"}, never))
    assert planned.before is None and planned.after is None and planned.put_entries == set()
    assert set(planned.record) == {"account_status", "updated_at"}


@pytest.mark.parametrize("change, touches", [
    (Change(TENANT, "ct-1", {"remark": "x", "security_level": 2}, never), False),
    (Change(TENANT, "ct-1", {"transfer_failure": {"userid": "a"}}, never), False),
    (Change(TENANT, "ct-1", {"org_name": "新"}, never), True),
    (Change(TENANT, "ct-1", {}, never, deleting=True), True),
    (Change(TENANT, "ct-1", {}, never, dropped_followers=frozenset({"a"})), True),
])
def test_which_changes_touch_the_indexes(change, touches):
    assert change.touches_indexes() is touches
