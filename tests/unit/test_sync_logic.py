"""The sync's pure logic: batches and key ranges, checkpoints, chain nodes, customer fields, WeCom failure handling,
and the admin token check. No emulator, no simulator."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.sync import checkpoint as sync_checkpoint, planning as sync_planning
from chalicelib.sync import run as sync_run, triggers as sync_triggers
from chalicelib.auth import admin_access
from chalicelib.directory import customers
from chalicelib.core.errors import Forbidden, Unauthorized
from chalicelib.store import contacts, organisations
from chalicelib.store.tenants import Tenant, TenantSettings
from chalicelib.wecom.errors import RateLimited, WeComApiError, WeComUnavailable

USERID = st.text(alphabet="aAzZ09_-.@", min_size=1, max_size=6)


def tenant(corp_name: str | None = None) -> Tenant:
    return Tenant("tnunit0001", name="单元", mode="self_built", corp_id="wwunit", secret_id="s", corp_name=corp_name,
                  settings=TenantSettings())


# --- batches and the follow index's key ranges -----------------------------------------------------------------
def plan(follow_users: list[str], size: int) -> list[tuple[list[str], tuple[str | None, str | None]]]:
    """The batches a run takes, with the key range each one cleans up, exactly as `_customers` walks them."""
    ordered = sorted(set(follow_users), key=sync_planning.member_order)
    after, batches = None, []
    while True:
        batch, last = sync_planning.next_batch(ordered, after, size)
        batches.append((batch, sync_planning.relation_bounds(after, batch[-1] if batch else None, last)))
        if batch:
            after = batch[-1]
        if last:
            return batches


def within(key: str, bounds: tuple[str | None, str | None]) -> bool:
    low, high = bounds
    return (low is None or key >= low) and (high is None or key <= high)


@settings(max_examples=300, deadline=None)
@given(follow=st.lists(USERID, max_size=12), stale=st.lists(USERID, max_size=6), size=st.integers(1, 4),
       customers_of=st.lists(st.text(alphabet="wmx0-9", min_size=1, max_size=4), min_size=1, max_size=3))
def test_batches_tile_the_follow_index(follow, stale, size, customers_of):
    """Every relation key — of a current follow user or of a member who no longer is one — falls in exactly one
    batch's range, and a follow user's keys fall in the range of the batch that holds the follow user."""
    batches = plan(follow, size)
    assert [u for batch, _ in batches for u in batch] == sorted(set(follow), key=sync_planning.member_order)
    for userid in set(follow) | set(stale):
        for ext in customers_of:
            key = contacts.follow_key(userid, ext)
            owners = [i for i, (_, bounds) in enumerate(batches) if within(key, bounds)]
            assert len(owners) == 1, (key, batches)
            if userid in follow:
                assert userid in batches[owners[0]][0]


@given(u=st.text(min_size=1, max_size=5).filter(lambda t: "#" not in t),
       v=st.text(min_size=1, max_size=5).filter(lambda t: "#" not in t),
       ext_u=st.text(max_size=5), ext_v=st.text(max_size=5))
def test_member_order_is_the_order_of_the_members_keys_in_the_index(u, v, ext_u, ext_v):
    """Whatever the characters (any but '#'), one member's keys all sort before the next member's, and before the
    `$` bound of its range — which is what makes a batch's relations one contiguous key range."""
    if sync_planning.member_order(u) < sync_planning.member_order(v):
        assert contacts.follow_key(u, ext_u) < f"{u}$" <= contacts.follow_key(v, ext_v)


def test_next_batch_resumes_after_a_member_even_when_it_has_left():
    ordered = sorted(["u1", "u2", "u4", "u5"], key=sync_planning.member_order)
    assert sync_planning.next_batch(ordered, None, 2) == (["u1", "u2"], False)
    assert sync_planning.next_batch(ordered, "u3", 2) == (["u4", "u5"], True)  # u3 was the last done; it left meanwhile
    assert sync_planning.next_batch(ordered, "u5", 2) == ([], True)
    assert sync_planning.next_batch([], None, 2) == ([], True)


def test_an_empty_follow_list_owns_the_whole_index():
    assert plan([], 100) == [([], (None, None))]


def test_pages_chunk_without_losing_or_repeating():
    assert list(sync_planning.pages(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(sync_planning.pages([], 3)) == []


# --- scope, run ids and the checkpoint -------------------------------------------------------------------------
def test_scope_round_trips_and_knows_a_full_run():
    assert sync_triggers.Scope.from_dict(sync_triggers.FULL.to_dict()) == sync_triggers.FULL and sync_triggers.FULL.full
    chain_only = sync_triggers.Scope(customers=False, chains=("Ch1",))
    assert sync_triggers.Scope.from_dict(json.loads(json.dumps(chain_only.to_dict()))) == chain_only
    assert not chain_only.full


def test_run_ids_sort_by_time():
    ids = [sync_triggers.new_run_id() for _ in range(20)]
    assert ids == sorted(ids) and len(set(ids)) == 20


def test_checkpoint_round_trips_and_counts_skipped_members_once():
    checkpoint = sync_checkpoint.Checkpoint(phase=sync_checkpoint.CHAINS, after="u9", batch=["u10"], skip=200,
                                            seen={"u10": 3}, skipped_members=["wm1", "wm2"], chains_done=["Ch1"])
    checkpoint.add_customers({"added": 2})
    checkpoint.add_customers({"added": 1, "updated": 4})
    checkpoint.add_organisations({"added": 5})
    assert sync_checkpoint.Checkpoint.from_json(checkpoint.to_json()) == checkpoint
    assert sync_checkpoint.Checkpoint.from_json(None) == sync_checkpoint.Checkpoint()
    assert checkpoint.counts_view() == {
        "customers": {"added": 3, "updated": 4, "unchanged": 0, "inactivated": 0, "skipped_as_member": 2},
        "organisations": {"added": 5, "updated": 0, "unchanged": 0, "inactivated": 0},
        "chain_contacts": {"added": 0, "updated": 0, "unchanged": 0, "inactivated": 0, "corps": 0, "corps_failed": 0},
    }


def test_the_checkpoint_keeps_only_the_latest_errors():
    checkpoint = sync_checkpoint.Checkpoint()
    for n in range(sync_checkpoint.MAX_ERRORS_KEPT + 5):
        checkpoint.record_error("customers", f"e{n}", "x" * 1000)
    assert len(checkpoint.errors) == sync_checkpoint.MAX_ERRORS_KEPT
    assert checkpoint.errors[-1]["code"] == f"e{sync_checkpoint.MAX_ERRORS_KEPT + 4}"
    assert len(checkpoint.errors[0]["message"]) == 500


# --- 上下游 nodes ------------------------------------------------------------------------------------------------
CHAIN = {"chain_id": "Ch1", "chain_name": "供应链"}
GROUPS = [{"groupid": 1, "group_name": "供应商", "parentid": 0, "order": 1},
          {"groupid": 2, "group_name": "华南供应商", "parentid": 1, "order": 2}]


def test_groups_nest_under_their_parent_and_top_level_groups_under_the_chain():
    nodes = {spec.node_id: spec for spec in sync_planning.chain_nodes(CHAIN, GROUPS)}
    assert nodes["chain#Ch1"].parent_id == organisations.CHAIN_DIMENSION_ID
    assert nodes["chain#Ch1"].kind == "group" and nodes["chain#Ch1"].name == "供应链"
    assert nodes["cgrp#Ch1#1"].parent_id == "chain#Ch1"
    assert nodes["cgrp#Ch1#2"].parent_id == "cgrp#Ch1#1" and nodes["cgrp#Ch1#2"].wecom["order"] == 2
    assert {spec.dimension_id for spec in nodes.values()} == {organisations.CHAIN_DIMENSION_ID}


def test_a_corp_sits_under_its_group_and_a_pending_one_is_marked():
    joined = sync_planning.chain_corp_node("Ch1", {"corpid": "ww1", "corp_name": "星河", "groupid": 2, "is_joined": 1,
                                          "custom_id": "C1", "invite_userid": ""}, {1, 2})
    assert (joined.node_id, joined.parent_id, joined.pending) == ("corg#Ch1#ww1", "cgrp#Ch1#2", False)
    assert joined.wecom == {"chain_id": "Ch1", "groupid": 2, "corpid": "ww1", "custom_id": "C1"}
    pending = sync_planning.chain_corp_node("Ch1", {"pending_corpid": "wp1", "corp_name": "蓝鲸", "groupid": 9,
                                           "is_joined": 0}, {1, 2})
    assert (pending.node_id, pending.parent_id, pending.pending) == ("corg#Ch1#pending:wp1", "chain#Ch1", True)
    assert pending.wecom["pending_corpid"] == "wp1"
    assert pending.node_id.startswith(organisations.chain_corps_prefix("Ch1"))


def test_a_node_digest_ignores_key_order_and_sees_every_change():
    spec = sync_planning.chain_corp_node("Ch1", {"corpid": "ww1", "corp_name": "星河", "groupid": 1, "is_joined": 1},
                                         {1})
    reordered = organisations.NodeSpec(spec.node_id, spec.kind, spec.name, spec.parent_id, spec.dimension_id,
                                       spec.source, dict(reversed(list(spec.wecom.items()))), spec.pending)
    assert reordered.digest() == spec.digest()
    for changed in (organisations.NodeSpec(**{**spec.__dict__, "name": "星河2"}),
                    organisations.NodeSpec(**{**spec.__dict__, "pending": True}),
                    organisations.NodeSpec(**{**spec.__dict__, "parent_id": "chain#Ch1"})):
        assert changed.digest() != spec.digest()


# --- customers ---------------------------------------------------------------------------------------------------
WECOM_USER = {"external_userid": "wmA", "name": "周经理", "type": 2, "corp_name": "星河贸易",
              "corp_full_name": "深圳星河贸易有限公司", "position": "采购"}
WECHAT_USER = {"external_userid": "wmB", "name": "陈先生", "type": 1, "unionid": "ozB"}


def test_wecom_users_go_under_their_corp_and_wechat_users_under_the_default_organisation():
    fields = customers.contact_fields(tenant(), WECOM_USER)
    assert fields["organisation_id"] == organisations.customer_corp_id("深圳星河贸易有限公司")
    assert fields["org_name"] == "深圳星河贸易有限公司" and fields["dimension_id"] == organisations.CUSTOMER_DIMENSION_ID
    fields = customers.contact_fields(tenant(), WECHAT_USER)
    assert (fields["organisation_id"], fields["org_name"]) == (organisations.WECHAT_ORGANISATION_ID, "微信客户")
    assert [spec.node_id for spec in customers.organisation_nodes(tenant(), fields)] == [
        organisations.CUSTOMER_DIMENSION_ID, organisations.WECHAT_ORGANISATION_ID]


def test_the_content_hash_changes_with_any_field_and_only_then():
    base = customers.contact_fields(tenant(), WECOM_USER)
    assert customers.content_hash(base) == customers.content_hash(dict(reversed(list(base.items()))))
    assert customers.content_hash({**base, "name": "周总"}) != customers.content_hash(base)
    renamed_dimension = tenant()
    renamed_dimension.settings.customer_dimension_name = "客户"
    renamed = customers.contact_fields(renamed_dimension, WECOM_USER)
    assert customers.content_hash(renamed) != customers.content_hash(base)


def test_follow_entries_are_the_same_from_both_apis():
    from_get = {"userid": "zhangsan", "remark": "陈总", "description": "", "createtime": 1735689700, "add_way": 0,
                "tags": [{"tag_id": "t1"}], "remark_mobiles": [], "oper_userid": "zhangsan"}
    from_batch = {k: v for k, v in from_get.items() if k != "tags"} | {"tag_id": ["t1"]}
    assert customers.follow_entry(from_get) == customers.follow_entry(from_batch) == {
        "remark": "陈总", "createtime": 1735689700, "add_way": 0, "oper_userid": "zhangsan"}


def is_team_member(tenant: Tenant, external_contact: dict, unionids: frozenset[str]) -> bool:
    """The signals that need no WeCom call (the customers here carry no remark mobile)."""
    return customers.MemberSignals(tenant, None, unionids).is_member(external_contact)


def test_team_members_are_known_by_unionid_or_by_the_tenants_own_corp():
    assert is_team_member(tenant(), WECHAT_USER, frozenset({"ozB"}))
    assert not is_team_member(tenant("云桥"), WECHAT_USER, frozenset({"ozC"}))
    assert is_team_member(tenant("深圳星河贸易有限公司"), WECOM_USER, frozenset())
    assert is_team_member(tenant("星河贸易"), WECOM_USER, frozenset())  # the short name is enough
    assert not is_team_member(tenant("云桥"), WECOM_USER, frozenset())
    assert not is_team_member(tenant("星河"), WECOM_USER, frozenset())  # names match whole, not in part


def test_a_wecom_user_is_not_synced_while_the_tenants_own_corp_names_are_unknown():
    """The corp could be the tenant's own: WeCom names a customer's corp, never its corpid."""
    assert is_team_member(tenant(), WECOM_USER, frozenset())
    assert not is_team_member(tenant(), WECHAT_USER, frozenset())  # WeChat users have no corp


@pytest.mark.parametrize("remark, mobile", [
    ("13800000007", "13800000007"), (" 138 0000 0007 ", "13800000007"), ("+86 138-0000-0007", "13800000007"),
    ("+4915112345678", "+4915112345678"), ("12345", None), ("同事", None), ("", None), (None, None),
])
def test_remark_mobiles_are_compared_as_wecom_keeps_members_mobiles(remark, mobile):
    assert customers.normalise_mobile(remark) == mobile


# --- WeCom's failures, as the run treats them ------------------------------------------------------------------
@pytest.fixture
def run() -> sync_run._Run:
    return sync_run._Run(tenant(), "run-1", "admin", sync_triggers.FULL, "inv-1", sync_run.Deadline(lambda: 900_000))


@pytest.mark.parametrize("error, kind, seconds, code", [
    (RateLimited("ww", "externalcontact/batch/get_by_user", 12.2), sync_run._Defer, 13, "rate_limited"),
    (WeComApiError(45009, "freq", "p"), sync_run._Defer, sync_run.RATE_LIMIT_RETRY_SECONDS, "wecom_45009"),
    (WeComApiError(45033, "concurrency", "p"), sync_run._Defer, sync_run.RATE_LIMIT_RETRY_SECONDS, "wecom_45033"),
    (WeComApiError(-1, "busy", "p"), sync_run._Defer, sync_run.BUSY_RETRY_SECONDS, "wecom_-1"),
    (WeComUnavailable("p", "ReadTimeout", 4), sync_run._Defer, sync_run.BUSY_RETRY_SECONDS, "wecom_unavailable"),
    (WeComApiError(48002, "api forbidden", "p"), sync_run._PhaseFailed, None, "wecom_48002"),
    (WeComApiError(40001, "invalid secret", "p"), sync_run._PhaseFailed, None, "wecom_40001"),
])
def test_wecom_failures_back_off_or_fail_the_phase(run, error, kind, seconds, code):
    with pytest.raises(kind) as raised:
        with run._calling_wecom():
            raise error
    assert raised.value.code == code
    if seconds is not None:
        assert raised.value.seconds == seconds


def test_the_deadline_expires_within_its_margin():
    left = {"ms": 100_000}
    deadline = sync_run.Deadline(lambda: left["ms"], margin_seconds=90)
    assert not deadline.expired() and deadline.seconds_left() == 100
    left["ms"] = 90_000
    assert deadline.expired()


# --- the admin token -------------------------------------------------------------------------------------------
@pytest.fixture
def stored_secret(monkeypatch):
    value: dict = {}
    monkeypatch.setattr(admin_access.secrets, "get", lambda secret_id: value)
    return value


def test_the_admin_token_must_match(stored_secret):
    stored_secret["admin_token"] = "s3cret"
    admin_access.require_admin(tenant(), {"X-Yunqiao-Admin-Token": "s3cret"})
    admin_access.require_admin(tenant(), {"x-yunqiao-admin-token": "s3cret"})  # any spelling of the header
    for headers in ({}, {"X-Yunqiao-Admin-Token": ""}, {"X-Yunqiao-Admin-Token": "s3cre"},
                    {"X-Yunqiao-Admin-Token": "s3cret "}, {"Authorization": "s3cret"}):
        with pytest.raises(Unauthorized):
            admin_access.require_admin(tenant(), headers)


def test_no_admin_token_set_up_refuses_everyone(stored_secret):
    with pytest.raises(Forbidden) as refused:
        admin_access.require_admin(tenant(), {"X-Yunqiao-Admin-Token": ""})
    assert refused.value.code == "admin_not_configured"
