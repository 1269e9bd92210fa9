"""上下游 contacts end to end: downstream corps the demo app is shared with (the simulator over HTTP), the sync run
through the schedule, the SQS consumer and the chain callbacks, the emulator's tables.

The demo shares its app with 星河贸易 (wwdown0001: 何军, 林晓雨, in both demo chains) and 海川物流 (wwdown0002, whose
visible range is 周经理 only). Every test compares the whole set of the tenant's 上下游 contacts with what WeCom shows.
"""
from __future__ import annotations

import pytest

from chalicelib.core import config
from chalicelib.store import contacts, organisations, sync_runs
from chalicelib.store.contacts import Contact
from chalicelib.sync import checkpoint as sync_checkpoint
from chalicelib.sync import triggers as sync_triggers
from chalicelib.tenants import wecom_clients

QUEUE = config.resource_name("sync")
CALLBACKS = config.resource_name("callbacks")
AGENTID = 1000002
XINGHE, HAICHUAN = "wwdown0001", "wwdown0002"
XINGHE_ORG = organisations.chain_corp_id("Chdemo0001", XINGHE, False)  # the first of its two chains, by id
HAICHUAN_ORG = organisations.chain_corp_id("Chdemo0001", HAICHUAN, False)
DEMO_CHAIN_CONTACTS = {
    (XINGHE, "hejun"): ("何军", "仓储经理", XINGHE_ORG, True),
    (XINGHE, "linxiaoyu"): ("林晓雨", "采购主管", XINGHE_ORG, True),
    (HAICHUAN, "zhoujingli"): ("周经理", "销售经理", HAICHUAN_ORG, True),
}


def chain_contacts_of(tenant_key: str) -> dict[tuple[str, str], tuple]:
    """(corpid, userid) → (name, position, organisation, active) of every 上下游 contact the tenant holds."""
    found = {}
    for contact in Contact.query(tenant_key, Contact.contact_id.startswith(contacts.CHAIN_CONTACTS_PREFIX)):
        corpid = contacts.chain_contact_corp(contact.contact_id)
        userid = contact.contact_id[len(contacts.chain_contacts_prefix(corpid)):]
        assert contact.contact_id == contacts.chain_contact_id(corpid, userid)
        assert contact.source == contacts.SOURCE_WECOM_CHAIN and not contact.wecom_customer
        assert contact.dimension_id == organisations.CHAIN_DIMENSION_ID and contact.dimension_name == "上下游"
        assert (contact.inactive_at is None) == (contact.content_hash is not None)
        found[(corpid, userid)] = (contact.name, contact.position, contact.organisation_id, contact.inactive_at is None)
    return found


def finished_run(tenant, pump) -> dict:
    pump.drain(QUEUE)
    return sync_checkpoint.latest_runs(tenant, 1)[0]


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch):
    """Each test's tenant starts like a new Lambda instance: no downstream token source kept from another test."""
    monkeypatch.setattr(wecom_clients, "_downstream", {})


def test_the_schedule_files_every_shared_corps_visible_members(demo_tenant, pump, sync_queue):  # noqa: F811
    pump.fire("schedule_sync")
    sync_queue.keep_only(demo_tenant.tenant_key)
    run = finished_run(demo_tenant, pump)
    assert run["status"] == "succeeded" and run["trigger"] == "schedule" and run["phase"] == "done"
    assert run["counts"]["chain_contacts"] == {"added": 3, "updated": 0, "unchanged": 0, "inactivated": 0,
                                               "corps": 2, "corps_failed": 0}
    assert chain_contacts_of(demo_tenant.tenant_key) == DEMO_CHAIN_CONTACTS
    zhou = contacts.get(demo_tenant.tenant_key, contacts.chain_contact_id(HAICHUAN, "zhoujingli"))
    assert (zhou.org_name, zhou.corp_name, zhou.security_level, zhou.account_status) == ("海川物流", "海川物流", 0, "none")
    assert organisations.get(demo_tenant.tenant_key, HAICHUAN_ORG).parent_id == organisations.chain_group_id(
        "Chdemo0001", 1)


def test_members_added_changed_and_removed_between_runs(demo_tenant, run_sync, simulator):  # noqa: F811
    run_sync(demo_tenant)
    before = contacts.get(demo_tenant.tenant_key, contacts.chain_contact_id(XINGHE, "hejun"))
    simulator.control.add_share_member(XINGHE, AGENTID, {"userid": "songli", "name": "宋丽", "position": "客服"})
    simulator.control.add_member({"userid": "linxiaoyu", "name": "林晓雨", "position": "采购总监"}, corpid=XINGHE)
    simulator.control.remove_member("zhoujingli", corpid=HAICHUAN)
    run = run_sync(demo_tenant)
    assert run["counts"]["chain_contacts"] == {"added": 1, "updated": 1, "unchanged": 1, "inactivated": 1,
                                               "corps": 2, "corps_failed": 0}
    assert chain_contacts_of(demo_tenant.tenant_key) == {
        (XINGHE, "hejun"): ("何军", "仓储经理", XINGHE_ORG, True),
        (XINGHE, "linxiaoyu"): ("林晓雨", "采购总监", XINGHE_ORG, True),
        (XINGHE, "songli"): ("宋丽", "客服", XINGHE_ORG, True),
        (HAICHUAN, "zhoujingli"): ("周经理", "销售经理", HAICHUAN_ORG, False),
    }
    unchanged = contacts.get(demo_tenant.tenant_key, contacts.chain_contact_id(XINGHE, "hejun"))
    assert unchanged.updated_at == before.updated_at  # nothing written for a member nothing happened to
    simulator.control.add_share_member(HAICHUAN, AGENTID, {"userid": "zhoujingli", "name": "周经理",
                                                           "position": "销售总监"})
    back = run_sync(demo_tenant)
    assert back["counts"]["chain_contacts"]["updated"] == 1
    assert chain_contacts_of(demo_tenant.tenant_key)[(HAICHUAN, "zhoujingli")] == ("周经理", "销售总监", HAICHUAN_ORG,
                                                                                   True)


def test_a_member_leaving_the_visible_range_goes_inactive(demo_tenant, run_sync, simulator):  # noqa: F811
    run_sync(demo_tenant)
    simulator.control.add_app_share({"corpid": XINGHE, "agentid": AGENTID, "downstream_agentid": 1000101,
                                     "visible_users": ["linxiaoyu"]})
    run = run_sync(demo_tenant)
    assert run["counts"]["chain_contacts"]["inactivated"] == 1
    assert chain_contacts_of(demo_tenant.tenant_key)[(XINGHE, "hejun")][3] is False


def test_a_second_run_with_nothing_changed_writes_no_contact(demo_tenant, run_sync, simulator):  # noqa: F811
    run_sync(demo_tenant)
    stamps = {c.contact_id: c.updated_at for c in Contact.query(
        demo_tenant.tenant_key, Contact.contact_id.startswith(contacts.CHAIN_CONTACTS_PREFIX))}
    run = run_sync(demo_tenant)
    assert run["counts"]["chain_contacts"] == {"added": 0, "updated": 0, "unchanged": 3, "inactivated": 0,
                                               "corps": 2, "corps_failed": 0}
    assert {c.contact_id: c.updated_at for c in Contact.query(
        demo_tenant.tenant_key, Contact.contact_id.startswith(contacts.CHAIN_CONTACTS_PREFIX))} == stamps
    assert len(simulator.control.calls(path="corpgroup/corp/gettoken")) == 2  # the tokens were cached


def test_a_refused_corp_is_reported_and_the_others_are_synced(demo_tenant, run_sync, pump, simulator):  # noqa: F811
    run_sync(demo_tenant)
    simulator.control.remove_member("hejun", corpid=XINGHE)
    simulator.control.remove_member("zhoujingli", corpid=HAICHUAN)
    simulator.control.invalidate_tokens(corpid=XINGHE)  # both corps' tokens are fetched again ...
    simulator.control.invalidate_tokens(corpid=HAICHUAN)
    simulator.control.set_fault("corpgroup/corp/gettoken", errcode=60011, times=1)  # the first corp: 星河贸易
    sync_triggers.queue_run(demo_tenant, "admin")
    run = finished_run(demo_tenant, pump)
    assert run["status"] == "partial"
    assert run["counts"]["chain_contacts"] == {"added": 0, "updated": 0, "unchanged": 0, "inactivated": 1,
                                               "corps": 1, "corps_failed": 1}
    [error] = [e for e in run["errors"] if e["phase"] == "chain_contacts"]
    assert error["code"] == "wecom_60011" and "星河贸易 (wwdown0001)" in error["message"]
    held = chain_contacts_of(demo_tenant.tenant_key)
    assert held[(XINGHE, "hejun")][3] is True  # a refused corp's contacts are left as they were
    assert held[(HAICHUAN, "zhoujingli")][3] is False
    again = run_sync(demo_tenant)
    assert again["counts"]["chain_contacts"]["corps_failed"] == 0
    assert chain_contacts_of(demo_tenant.tenant_key)[(XINGHE, "hejun")][3] is False


def test_shared_corps_are_listed_page_by_page_and_unshared_ones_retire(demo_tenant, run_sync, simulator):  # noqa: F811
    extra = [f"wwshare{n:04d}" for n in range(101)]
    for corpid in extra:  # corps no synced chain lists: each gets an organisation of its own
        simulator.control.add_app_share({"corpid": corpid, "corp_name": f"共享{corpid[-4:]}", "agentid": AGENTID,
                                         "members": [{"userid": "boss", "name": f"老板{corpid[-4:]}"}]})
    run = run_sync(demo_tenant)
    listings = [call["body"] for call in simulator.control.calls(path="corpgroup/corp/list_app_share_info")]
    cursors = [body["cursor"] for body in listings]  # 103 corps, 100 a page (listed again by each invocation)
    assert len(set(cursors)) == 2 and cursors[::2] == [""] * (len(cursors) // 2) and len(cursors) % 2 == 0
    assert {(body["limit"], body["business_type"], body["agentid"]) for body in listings} == {(100, 1, AGENTID)}
    assert run["counts"]["chain_contacts"]["added"] == 104 and run["counts"]["chain_contacts"]["corps"] == 103
    held = chain_contacts_of(demo_tenant.tenant_key)
    assert held[("wwshare0042", "boss")] == ("老板0042", None, organisations.shared_corp_id("wwshare0042"), True)
    node = organisations.get(demo_tenant.tenant_key, organisations.shared_corp_id("wwshare0042"))
    assert (node.name, node.parent_id, node.inactive_at) == ("共享0042", organisations.CHAIN_DIMENSION_ID, None)
    simulator.control.remove_app_share("wwshare0042", AGENTID)
    simulator.control.remove_app_share(HAICHUAN, AGENTID)
    again = run_sync(demo_tenant)
    assert again["counts"]["chain_contacts"]["inactivated"] == 2
    held = chain_contacts_of(demo_tenant.tenant_key)
    assert held[("wwshare0042", "boss")][3] is False and held[(HAICHUAN, "zhoujingli")][3] is False
    assert sum(active for *_, active in held.values()) == 102
    assert organisations.get(demo_tenant.tenant_key, organisations.shared_corp_id("wwshare0042")).inactive_at
    assert organisations.get(demo_tenant.tenant_key, organisations.shared_corp_id("wwshare0041")).inactive_at is None


def test_a_corp_joining_a_chain_moves_to_the_chains_organisation(demo_tenant, run_sync, simulator):  # noqa: F811
    simulator.control.add_app_share({"corpid": "wwdown0003", "agentid": AGENTID,
                                     "members": [{"userid": "guo", "name": "郭工"}]})
    simulator.control.remove_chain_corp("Chdemo0001", "wwdown0003")
    run_sync(demo_tenant)
    assert chain_contacts_of(demo_tenant.tenant_key)[("wwdown0003", "guo")][2] == organisations.shared_corp_id(
        "wwdown0003")
    simulator.control.add_chain_corp("Chdemo0001", {"corpid": "wwdown0003", "corp_name": "北辰电子", "groupid": 3})
    run = run_sync(demo_tenant)
    assert chain_contacts_of(demo_tenant.tenant_key)[("wwdown0003", "guo")] == (
        "郭工", None, organisations.chain_corp_id("Chdemo0001", "wwdown0003", False), True)
    assert run["counts"]["chain_contacts"]["updated"] == 1
    assert organisations.get(demo_tenant.tenant_key, organisations.shared_corp_id("wwdown0003")).inactive_at


def test_tenants_keep_their_own_chain_contacts(demo_tenant, run_sync, simulator):  # noqa: F811
    from tests.integration.conftest import _seed_demo_tenant

    run_sync(demo_tenant)
    other = _seed_demo_tenant()  # the same corp under another tenant key
    assert chain_contacts_of(other.tenant_key) == {}
    run_sync(other)
    assert chain_contacts_of(other.tenant_key) == DEMO_CHAIN_CONTACTS
    simulator.control.remove_member("hejun", corpid=XINGHE)
    run_sync(demo_tenant)
    assert chain_contacts_of(demo_tenant.tenant_key)[(XINGHE, "hejun")][3] is False
    assert chain_contacts_of(other.tenant_key) == DEMO_CHAIN_CONTACTS


def test_a_chain_change_callback_resyncs_the_corps_of_that_chain(demo_tenant, run_sync, pump, simulator,  # noqa: F811
                                                                 app_server, callbacks_queue):
    run_sync(demo_tenant)
    simulator.control.remove_member("hejun", corpid=XINGHE)
    simulator.control.add_share_member(HAICHUAN, AGENTID, {"userid": "sunhao", "name": "孙浩"})
    simulator.control.reset_calls()
    url = f"{app_server}/wecom/callback/{demo_tenant.tenant_key}"
    answer = simulator.control.push("change_chain", url, chain_id="Chdemo0002")  # lists 南山商贸 and 星河贸易
    assert (answer["status"], answer["body"]) == (200, "success")
    pump.drain(CALLBACKS)
    run = finished_run(demo_tenant, pump)
    assert run["status"] == "succeeded" and run["scope"] == {"customers": False, "chains": ["Chdemo0002"]}
    assert {call["corpid"] for call in simulator.control.calls(path="user/list_id")} == {XINGHE}
    held = chain_contacts_of(demo_tenant.tenant_key)
    assert held[(XINGHE, "hejun")][3] is False  # 星河贸易 is in the changed chain
    assert (HAICHUAN, "sunhao") not in held  # 海川物流 is not: the next full run brings 孙浩 in


def test_a_share_change_callback_resyncs_every_shared_corp(demo_tenant, run_sync, pump, simulator,  # noqa: F811
                                                           app_server, callbacks_queue):
    run_sync(demo_tenant)
    simulator.control.remove_app_share(XINGHE, AGENTID)
    simulator.control.add_share_member(HAICHUAN, AGENTID, {"userid": "sunhao", "name": "孙浩"})
    url = f"{app_server}/wecom/callback/{demo_tenant.tenant_key}"
    answer = simulator.control.push("share_chain_change", url)
    assert (answer["status"], answer["body"]) == (200, "success")
    pump.drain(CALLBACKS)
    run = finished_run(demo_tenant, pump)
    assert run["status"] == "succeeded" and run["trigger"] == "share_chain_change"
    assert run["scope"] == {"customers": False, "chains": None}
    assert chain_contacts_of(demo_tenant.tenant_key) == {
        (XINGHE, "hejun"): ("何军", "仓储经理", XINGHE_ORG, False),
        (XINGHE, "linxiaoyu"): ("林晓雨", "采购主管", XINGHE_ORG, False),
        (HAICHUAN, "zhoujingli"): ("周经理", "销售经理", HAICHUAN_ORG, True),
        (HAICHUAN, "sunhao"): ("孙浩", None, HAICHUAN_ORG, True),
    }


def test_a_team_without_an_app_reports_the_phase_and_keeps_its_contacts(demo_tenant, run_sync, pump):  # noqa: F811
    from chalicelib.store import tenants as tenant_store

    run_sync(demo_tenant)
    demo_tenant.update(actions=[tenant_store.Tenant.agent_id.remove()])
    sync_triggers.queue_run(tenant_store.get(demo_tenant.tenant_key), "admin")
    run = finished_run(demo_tenant, pump)
    assert run["status"] == sync_runs.PARTIAL
    assert [e["code"] for e in run["errors"] if e["phase"] == "chain_contacts"] == ["no_agent"]
    assert chain_contacts_of(demo_tenant.tenant_key) == DEMO_CHAIN_CONTACTS


def test_the_local_stack_seeds_the_chain_contacts_for_the_toolbar(demo_tenant, sync_queue):  # noqa: F811
    from dev.seed import seed_chain_contacts

    seed_chain_contacts(demo_tenant)
    seed_chain_contacts(demo_tenant)  # a second `make run`: found current
    first, second = reversed(sync_checkpoint.latest_runs(demo_tenant, 2))
    assert first["trigger"] == second["trigger"] == "seed" and second["status"] == "succeeded"
    assert first["counts"]["chain_contacts"]["added"] == 3 and second["counts"]["chain_contacts"]["unchanged"] == 3
    zhou = contacts.get(demo_tenant.tenant_key, contacts.chain_contact_id(HAICHUAN, "zhoujingli"))
    assert (zhou.name, zhou.org_name, zhou.dimension_name, zhou.inactive_at) == ("周经理", "海川物流", "上下游", None)
    assert sync_queue.bodies() == []  # done inline, nothing left for the pump


def test_a_large_corp_resumes_page_by_page_through_a_busy_burst(demo_tenant, run_sync, simulator,  # noqa: F811
                                                                 monkeypatch):
    """Out of time at every step and WeCom busy mid-corp: the run checkpoints between pages of members, continues in
    follow-up messages and ends with every member once, no page applied twice."""
    from chalicelib.directory import chain_contacts
    from chalicelib.handlers import sqs as sqs_handler
    from chalicelib.sync import run as sync_run

    many = [{"userid": f"m{n:03d}", "name": f"成员{n:03d}"} for n in range(250)]
    simulator.control.add_app_share({"corpid": XINGHE, "agentid": AGENTID, "downstream_agentid": 1000101,
                                     "members": many})
    monkeypatch.setattr(sync_run, "BUSY_RETRY_SECONDS", 0)
    monkeypatch.setattr(sqs_handler, "backoff_seconds", lambda receive_count: 0)
    monkeypatch.setattr(sync_run.Deadline, "expired", lambda self: True)  # every step is the invocation's last
    real_apply, applied = chain_contacts.apply_members, []

    def busy_after_the_first_page(tenant, corp, home, members, run_id):
        applied.extend(member["userid"] for member in members)
        if len(applied) == 100:
            simulator.control.set_fault("user/get", errcode=-1, times=5)  # longer than the client's own retries
        return real_apply(tenant, corp, home, members, run_id)

    monkeypatch.setattr(chain_contacts, "apply_members", busy_after_the_first_page)
    run = run_sync(demo_tenant)
    assert len(applied) == len(set(applied)) == 253  # every member applied once: no page twice
    assert run["counts"]["chain_contacts"]["added"] == 253 and run["counts"]["chain_contacts"]["corps"] == 2
    assert [e["code"] for e in run["errors"] if e["phase"] == "chain_contacts"] == ["wecom_-1"]
    held = chain_contacts_of(demo_tenant.tenant_key)
    assert len(held) == 253 and all(active for *_, active in held.values())
