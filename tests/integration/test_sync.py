"""The scheduled sync end to end: the simulator's corp over HTTP, the emulator's tables and queues, the app's own
consumer and schedule driven by the event pump.

Every test keeps its own model of what WeCom holds (`World`), changes the simulator and the model together, and
asserts the whole directory the sync produced — every contact, every follower, every organisation node — against
what the model says it must be.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from chalicelib.sync import checkpoint as sync_checkpoint, run as sync_run, triggers as sync_triggers
from chalicelib.core import config
from chalicelib.directory import customers
from chalicelib.tenants import onboarding
from chalicelib.store import contacts, members, organisations, secrets, sync_runs
from chalicelib.store import tenants as tenant_store
from chalicelib.store.contacts import Contact, CustomerFollow
from chalicelib.store.organisations import Node
from dev.wecom_sim.generate import generate

ROOT = Path(__file__).resolve().parents[2]
DEMO = json.loads((ROOT / "dev" / "scenarios" / "demo.json").read_text(encoding="utf-8"))
QUEUE = config.resource_name("sync")
BATCH_PATH = "externalcontact/batch/get_by_user"
SUNQI_UNIONID = "oz4Dq5demoUnionSunqi0000000X"  # 孙七's personal WeChat is also a customer of zhangsan
ADMIN_TOKEN = "admin-token-for-tests"
DIRECTORY_TABLES = {config.resource_name(name) for name in ("contacts", "customer-follows", "organisations")}


# --- the model of WeCom --------------------------------------------------------------------------------------------
@dataclass
class World:
    """What the simulated corp holds, kept by the test in step with the control calls it makes."""

    corp: dict
    customers: dict[str, dict] = field(default_factory=dict)  # external_userid -> public fields
    follows: dict[str, set[str]] = field(default_factory=dict)  # external_userid -> follower userids
    chains: dict[str, dict] = field(default_factory=dict)  # chain_id -> {name, groups{gid: (name, parent)}, corps{}}
    member_unionids: set[str] = field(default_factory=set)  # unionids the tenant knows its members by
    ever_contacts: set[str] = field(default_factory=set)  # customers the directory has held at some point

    @classmethod
    def of(cls, scenario: dict) -> "World":
        corp = scenario["corps"][0]
        world = cls(corp={"corpid": corp["corpid"], "corp_name": corp["corp_name"]})
        for customer in corp["customers"]:
            world.customers[customer["external_userid"]] = {
                k: v for k, v in customer.items() if k not in ("follow_users", "openid")}
            world.follows[customer["external_userid"]] = {f["userid"] for f in customer["follow_users"]}
        for chain in corp.get("chains", []):
            world.chains[chain["chain_id"]] = {
                "name": chain["chain_name"],
                "groups": {g["groupid"]: (g["group_name"], g.get("parentid", 0)) for g in chain["groups"]},
                "corps": {c["corpid"]: (c["corp_name"], c["groupid"], bool(c.get("is_joined", True)))
                          for c in chain["corps"]},
            }
        return world

    # changes, mirrored in the simulator
    def add_customer(self, sim, customer: dict, userids: list[str]) -> None:
        """Add a customer, or followers to one (the simulator defaults omitted fields: send the whole record)."""
        record = {**self.customers.get(customer["external_userid"], {}), **customer}
        sim.control.add_customer({**record, "follow_users": [{"userid": u, "createtime": 1790000000, "add_way": 1}
                                                              for u in userids]})
        self.customers[record["external_userid"]] = record
        self.follows.setdefault(record["external_userid"], set()).update(userids)

    def edit_customer(self, sim, external_userid: str, **changes) -> None:
        self.add_customer(sim, {"external_userid": external_userid, **changes}, [])

    def unfollow(self, sim, external_userid: str, userid: str) -> None:
        sim.control.remove_customer(external_userid, userid=userid)
        self.follows[external_userid].discard(userid)

    def remove_customer(self, sim, external_userid: str) -> None:
        sim.control.remove_customer(external_userid)
        self.follows[external_userid] = set()

    def remove_member(self, sim, userid: str) -> None:
        sim.control.remove_member(userid)
        for followers in self.follows.values():
            followers.discard(userid)

    def put_chain_corp(self, sim, chain_id: str, corpid: str, name: str, groupid: int, joined: bool) -> None:
        sim.control.add_chain_corp(chain_id, {"corpid": corpid, "corp_name": name, "groupid": groupid,
                                              "is_joined": joined})
        self.chains[chain_id]["corps"][corpid] = (name, groupid, joined)

    def remove_chain_corp(self, sim, chain_id: str, corpid: str) -> None:
        sim.control.remove_chain_corp(chain_id, corpid)
        del self.chains[chain_id]["corps"][corpid]

    # what the directory must hold
    def expected_contacts(self, tenant) -> dict[str, tuple]:
        """external_userid -> (name, followers, active, organisation id) for every customer that is or was one."""
        expected = {}
        for external_userid, customer in self.customers.items():
            followers = self.follows[external_userid]
            is_member = customer.get("unionid") in self.member_unionids
            if followers and not is_member:
                self.ever_contacts.add(external_userid)
            if external_userid not in self.ever_contacts:
                continue
            active = bool(followers) and not is_member
            corp = customer.get("corp_full_name") or customer.get("corp_name")
            org = (organisations.customer_corp_id(corp) if customer.get("type") == 2 and corp
                   else organisations.WECHAT_ORGANISATION_ID)
            expected[external_userid] = (customer["name"], frozenset(followers) if active else frozenset(), active, org)
        return expected

    def expected_chain_nodes(self) -> dict[str, tuple]:
        """node id -> (kind, name, parent id, pending) for every active 上下游 node."""
        nodes = {organisations.CHAIN_DIMENSION_ID: ("dimension", "上下游", None, False)}
        for chain_id, chain in self.chains.items():
            chain_node = organisations.chain_node_id(chain_id)
            nodes[chain_node] = ("group", chain["name"], organisations.CHAIN_DIMENSION_ID, False)
            for groupid, (name, parent) in chain["groups"].items():
                parent_id = organisations.chain_group_id(chain_id, parent) if parent else chain_node
                nodes[organisations.chain_group_id(chain_id, groupid)] = ("group", name, parent_id, False)
            for corpid, (name, groupid, joined) in chain["corps"].items():
                node_id = organisations.chain_corp_id(chain_id, corpid, pending=not joined)
                nodes[node_id] = ("organisation", name, organisations.chain_group_id(chain_id, groupid), not joined)
        return nodes


# --- reading the directory -----------------------------------------------------------------------------------------
def stored_contacts(tenant_key: str) -> dict[str, tuple]:
    """The customers' contacts (the 上下游 contacts, also synced, are test_chain_contacts.py's)."""
    found = {}
    for contact in Contact.query(tenant_key):
        if contact.contact_id.startswith(contacts.CHAIN_CONTACTS_PREFIX):
            continue
        assert contact.external_userid not in found, "one customer, one contact"
        assert contact.contact_id == contacts.customer_contact_id(contact.external_userid)
        active = contact.wecom_customer
        assert (contact.inactive_at is None) == active
        found[contact.external_userid] = (contact.name, frozenset(contact.follow_users.as_dict()), active,
                                          contact.organisation_id)
    return found


def stored_follows(tenant_key: str) -> set[tuple[str, str]]:
    return {contacts.split_follow_key(item.follow_key) for item in CustomerFollow.query(tenant_key)}


def stored_nodes(tenant_key: str) -> dict[str, Node]:
    return {node.node_id: node for node in Node.query(tenant_key)}


def active_chain_nodes(tenant_key: str) -> dict[str, tuple]:
    return {
        node_id: (node.kind, node.name, node.parent_id, node.pending)
        for node_id, node in stored_nodes(tenant_key).items()
        if node.dimension_id == organisations.CHAIN_DIMENSION_ID and node.inactive_at is None
    }


def assert_directory(tenant, world: World) -> None:
    """Every contact, follower and 上下游 node exactly as WeCom has them; the follow index mirrors the contacts."""
    expected = world.expected_contacts(tenant)
    assert stored_contacts(tenant.tenant_key) == expected
    assert stored_follows(tenant.tenant_key) == {
        (userid, ext) for ext, (_, followers, _, _) in expected.items() for userid in followers}
    assert active_chain_nodes(tenant.tenant_key) == world.expected_chain_nodes()
    nodes = stored_nodes(tenant.tenant_key)
    for _, _, active, org in expected.values():
        if active:
            assert nodes[org].parent_id == organisations.CUSTOMER_DIMENSION_ID and nodes[org].inactive_at is None
    assert nodes[organisations.CUSTOMER_DIMENSION_ID].name == "企业微信客户"


def latest_run(tenant) -> dict:
    return sync_checkpoint.latest_runs(tenant, 1)[0]


# --- fixtures ----------------------------------------------------------------------------------------------------
@pytest.fixture
def tenant(demo_tenant, sync_queue):
    """The demo tenant (a fresh key), knowing 孙七 by the unionid he signed in with through WeChat."""
    members.upsert(demo_tenant.tenant_key, "sunqi", "孙七", [3])
    members.set_unionid(demo_tenant.tenant_key, "sunqi", SUNQI_UNIONID)
    return demo_tenant


@pytest.fixture
def demo_world():
    world = World.of(DEMO)
    world.member_unionids.add(SUNQI_UNIONID)
    return world


@pytest.fixture
def writes(monkeypatch):
    """Items written per table (PutItem, UpdateItem, DeleteItem, BatchWriteItem entries), counted at PynamoDB's
    connection: `writes.directory()` is what the directory tables received."""
    from pynamodb.connection.base import Connection

    counted: dict[str, int] = {}
    real = Connection._make_api_call

    def counting(self, operation_name, operation_kwargs):
        if operation_name in ("PutItem", "UpdateItem", "DeleteItem"):
            table = operation_kwargs["TableName"]
            counted[table] = counted.get(table, 0) + 1
        elif operation_name == "BatchWriteItem":
            for table, entries in operation_kwargs["RequestItems"].items():
                counted[table] = counted.get(table, 0) + len(entries)
        return real(self, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "_make_api_call", counting)

    class Writes:
        def reset(self) -> None:
            counted.clear()

        def directory(self) -> int:
            return sum(n for table, n in counted.items() if table in DIRECTORY_TABLES)

    return Writes()


# --- the demo corp -----------------------------------------------------------------------------------------------
def test_the_demo_corp_lands_in_the_directory(tenant, demo_world, run_sync):
    run = run_sync(tenant)
    assert_directory(tenant, demo_world)
    contact = contacts.get(tenant.tenant_key, contacts.customer_contact_id("wmYQdemocb7524d792327e4c443d619d"))
    assert contact.org_name == "深圳星河贸易有限公司" and contact.dimension_name == "企业微信客户"
    assert contact.source == "wecom_customer" and contact.security_level == 0 and contact.account_status == "none"
    assert set(contact.follow_users.as_dict()) == {"zhangsan", "wangwu", "zhaoliu"}
    wechat_org = stored_nodes(tenant.tenant_key)[organisations.WECHAT_ORGANISATION_ID]
    assert wechat_org.name == "微信客户" and wechat_org.kind == "organisation"
    pending = stored_nodes(tenant.tenant_key)[organisations.chain_corp_id("Chdemo0001", "wwpend0001", pending=True)]
    assert pending.pending is True and pending.wecom.as_dict()["pending_corpid"] == "wwpend0001"
    assert run["counts"]["customers"] == {"added": 11, "updated": 0, "unchanged": 0, "inactivated": 0,
                                          "skipped_as_member": 1}
    customer_nodes = {node.name for node in stored_nodes(tenant.tenant_key).values()
                      if node.dimension_id == organisations.CUSTOMER_DIMENSION_ID}
    assert customer_nodes == {"企业微信客户", "微信客户", "深圳星河贸易有限公司", "广州海川物流股份有限公司",
                              "蓝鲸设备制造（苏州）有限公司"}  # 周经理 and 宋经理 share one corp
    assert run["counts"]["organisations"]["added"] == len(demo_world.expected_chain_nodes()) + len(customer_nodes)
    assert run["invocations"] == 1 and run["errors"] == [] and run["phase"] == "done"


def test_a_second_run_with_nothing_changed_writes_nothing_to_the_directory(tenant, demo_world, run_sync, writes):
    run_sync(tenant)
    writes.reset()
    run = run_sync(tenant)
    assert writes.directory() == 0
    assert run["counts"]["customers"] == {"added": 0, "updated": 0, "unchanged": 11, "inactivated": 0,
                                          "skipped_as_member": 1}
    assert run["counts"]["organisations"]["added"] == run["counts"]["organisations"]["updated"] == 0
    assert_directory(tenant, demo_world)


def test_the_schedule_fans_out_to_enabled_tenants_with_auto_sync_and_the_run_fills_the_directory(
        tenant, demo_world, make_tenant, pump, sync_queue):
    without_auto_sync = make_tenant()
    disabled = make_tenant(auto_sync_customers=True)
    tenant_store.set_enabled(disabled, False)
    answer = pump.fire("schedule_sync")
    bodies = sync_queue.bodies()
    queued = {body["tenantKey"] for body in bodies}
    assert answer == {"queued": len(bodies)} and len(queued) == len(bodies)
    assert tenant.tenant_key in queued
    assert without_auto_sync.tenant_key not in queued and disabled.tenant_key not in queued
    assert {(body["trigger"], json.dumps(body["scope"])) for body in bodies} == {
        ("schedule", json.dumps({"customers": True, "chains": None}))}
    sync_queue.keep_only(tenant.tenant_key)
    pump.drain(QUEUE)
    assert latest_run(tenant)["status"] == "succeeded" and latest_run(tenant)["trigger"] == "schedule"
    assert_directory(tenant, demo_world)


def test_changes_between_runs_in_the_demo_corp(tenant, demo_world, run_sync, simulator):
    """Added, edited, removed, moved between members, a follower gone, and a contact discovered to be a member."""
    run_sync(tenant)
    world = demo_world
    assert_directory(tenant, world)
    world.add_customer(simulator, {"external_userid": "wmYQsyncnew0000000000000000001", "name": "新客户", "type": 1,
                                   "unionid": "oz4Dq5syncNew0001"}, ["zhaoliu", "zhengshi"])
    world.edit_customer(simulator, "wmYQdemo25ea1682e16466c0667abdc0", name="吴总（改）")
    world.remove_customer(simulator, "wmYQdemo0a3d72134fb3d6c024db4c51")  # 黄同学, followed by lisi only
    world.unfollow(simulator, "wmYQdemoa9f7e97965d6cf799a529102", "lisi")  # 陈先生 keeps zhangsan
    world.unfollow(simulator, "wmYQdemo5a34d1edaea4e32871b6f750", "zhaoliu")  # 郭先生 moves from zhaoliu ...
    world.add_customer(simulator, {"external_userid": "wmYQdemo5a34d1edaea4e32871b6f750"}, ["zhengshi"])  # ... on
    members.upsert(tenant.tenant_key, "zhouba", "周八", [3])  # 梁先生's WeChat turns out to be 周八's
    unionid = world.customers["wmYQdemo47cfc27c36f07700a44a2488"]["unionid"]
    members.set_unionid(tenant.tenant_key, "zhouba", unionid)
    world.member_unionids.add(unionid)
    run = run_sync(tenant)
    assert_directory(tenant, world)
    assert run["counts"]["customers"] == {"added": 1, "updated": 3, "unchanged": 6, "inactivated": 2,
                                          "skipped_as_member": 2}
    gone = contacts.get(tenant.tenant_key, contacts.customer_contact_id("wmYQdemo0a3d72134fb3d6c024db4c51"))
    assert gone.inactive_at is not None and gone.name == "黄同学"  # kept, not deleted


def test_a_contact_the_callbacks_created_is_repaired_when_its_removal_was_missed(tenant, demo_world, run_sync,
                                                                               simulator):
    from chalicelib.tenants.wecom_clients import client_for_tenant

    customer = "wmYQdemo9ab62b5ef34a985438bfdf7e"  # 林女士, zhangsan's
    assert customers.refresh(tenant, client_for_tenant(tenant), customer) == customers.ADDED
    demo_world.ever_contacts.add(customer)
    demo_world.remove_customer(simulator, customer)  # ... and the del_external_contact callback never arrives
    run = run_sync(tenant)
    assert_directory(tenant, demo_world)
    assert run["counts"]["customers"]["inactivated"] == 1 and run["counts"]["customers"]["added"] == 10


def test_with_auto_sync_off_only_contacts_already_in_the_directory_are_kept_current(tenant, demo_world, run_sync,
                                                                                  simulator):
    from chalicelib.tenants.wecom_clients import client_for_tenant

    kept = "wmYQdemocb7524d792327e4c443d619d"
    customers.refresh(tenant, client_for_tenant(tenant), kept)
    tenant.update(actions=[tenant_store.Tenant.settings.auto_sync_customers.set(False)])
    demo_world.unfollow(simulator, kept, "zhaoliu")
    run_sync(tenant)
    stored = stored_contacts(tenant.tenant_key)
    assert set(stored) == {kept}
    assert stored[kept][1] == frozenset({"zhangsan", "wangwu"})
    assert active_chain_nodes(tenant.tenant_key) == demo_world.expected_chain_nodes()


# --- a corp with more than 100 follow users ------------------------------------------------------------------------
BIG_CORP = "wwsyncbig001"


@pytest.fixture
def big_scenario(simulator):
    """A generated corp: 150 follow users (two batches), 400 customers (121 followed by 2-3 members, ten of them
    members' own WeChat; 561 member-customer pairs, six pages), two chains of 30 corps in nested groups with pending
    corps. The demo corp comes back after."""
    scenario = generate(members=260, customers=400, follow_users=150, chains=2, corps_per_chain=30, seed=5,
                        corpid=BIG_CORP)
    simulator.control.load_scenario(scenario)
    yield scenario
    simulator.control.load_scenario(DEMO)


@pytest.fixture
def big_tenant(big_scenario, sync_queue):
    corp = big_scenario["corps"][0]
    secret = {s["kind"]: s for s in corp["secrets"]}
    tenant = onboarding.create_self_built(
        name=corp["corp_name"], corp_id=corp["corpid"], agent_id=str(secret["app"]["agentid"]),
        auto_sync_customers=True, wecom_secrets={
            "contacts_secret": secret["contacts"]["secret"], "customer_secret": secret["externalcontact"]["secret"],
            "app_secret": secret["app"]["secret"], "callback_token": corp["callback"]["token"],
            "callback_aes_key": corp["callback"]["encoding_aes_key"]})
    for member in corp["members"]:
        if member.get("unionid"):  # as if they had signed in through WeChat
            members.upsert(tenant.tenant_key, member["userid"], member["name"], member["department"])
            members.set_unionid(tenant.tenant_key, member["userid"], member["unionid"])
    return tenant


@pytest.fixture
def big_world(big_scenario):
    world = World.of(big_scenario)
    world.member_unionids.update(m["unionid"] for m in big_scenario["corps"][0]["members"] if m.get("unionid"))
    return world


def batch_calls(simulator) -> list[dict]:
    return [call for call in simulator.control.calls(path=BATCH_PATH, corpid=BIG_CORP) if call["errcode"] == 0]


def test_a_corp_with_more_than_100_follow_users_and_changes_between_runs(big_tenant, big_world, big_scenario, run_sync,
                                                                         simulator, writes):
    world = big_world
    first = run_sync(big_tenant)
    assert_directory(big_tenant, world)
    userid_lists = [tuple(call["body"]["userid_list"]) for call in batch_calls(simulator)]
    batches = list(dict.fromkeys(userid_lists))
    assert [len(batch) for batch in batches] == [100, 50]
    assert set(batches[0]) | set(batches[1]) == {
        m["userid"] for m in big_scenario["corps"][0]["members"] if m.get("follow_user")}
    assert first["counts"]["customers"]["skipped_as_member"] == 10
    assert first["counts"]["customers"]["added"] == len(world.expected_contacts(big_tenant))
    stored = stored_contacts(big_tenant.tenant_key)
    multi = [ext for ext, followers in world.follows.items() if len(followers) > 1 and ext in stored]
    assert len(multi) > 100 and all(len(stored[ext][1]) > 1 for ext in multi)  # one contact, all its followers

    before = world.expected_contacts(big_tenant)
    first_batch, second_batch = set(batches[0]), set(batches[1])
    by_follower = sorted(world.follows.items())
    in_first = [ext for ext, f in by_follower if len(f) == 1 and f <= first_batch and ext in before]
    in_second = [ext for ext, f in by_follower if len(f) == 1 and f <= second_batch and ext in before]
    shared = [ext for ext, f in by_follower if len(f) > 1 and ext in before]
    world.add_customer(simulator, {"external_userid": "wmsyncbignew0000000000000000001", "name": "新增一",
                                   "type": 1}, [sorted(first_batch)[3]])
    world.add_customer(simulator, {"external_userid": "wmsyncbignew0000000000000000002", "name": "新增二",
                                   "type": 2, "corp_name": "新公司", "corp_full_name": "新公司有限公司"},
                       [sorted(first_batch)[5], sorted(second_batch)[7]])
    world.edit_customer(simulator, in_first[0], name="改名一")
    world.edit_customer(simulator, in_second[0], name="改名二")
    world.remove_customer(simulator, in_first[1])
    world.remove_customer(simulator, in_second[1])
    world.unfollow(simulator, shared[0], sorted(world.follows[shared[0]])[0])
    moved, source = in_first[2], next(iter(world.follows[in_first[2]]))
    world.unfollow(simulator, moved, source)  # moved from a member of the first batch ...
    world.add_customer(simulator, {"external_userid": moved}, [sorted(second_batch)[0]])  # ... to one of the second
    leaver = sorted(second_batch)[10]  # a member who leaves: no longer a follow user at all
    world.remove_member(simulator, leaver)
    became_member = next(ext for ext in in_second[2:] if world.customers[ext].get("unionid"))
    members.upsert(big_tenant.tenant_key, "u-new-member", "新同事", [2])
    members.set_unionid(big_tenant.tenant_key, "u-new-member", world.customers[became_member]["unionid"])
    world.member_unionids.add(world.customers[became_member]["unionid"])
    chain_id = sorted(world.chains)[0]
    pending = next(c for c, (_, _, joined) in world.chains[chain_id]["corps"].items() if not joined)
    name, groupid, _ = world.chains[chain_id]["corps"][pending]
    world.put_chain_corp(simulator, chain_id, pending, name, groupid, joined=True)  # the invited corp joined
    world.remove_chain_corp(simulator, chain_id, sorted(c for c in world.chains[chain_id]["corps"] if c != pending)[0])
    world.put_chain_corp(simulator, chain_id, "wwsyncnewcorp01", "新下游", 4, joined=False)

    second = run_sync(big_tenant)
    assert_directory(big_tenant, world)
    after = world.expected_contacts(big_tenant)
    added = [ext for ext in after if ext not in before]
    inactivated = [ext for ext in after if ext in before and before[ext][2] and not after[ext][2]]
    updated = [ext for ext in after if ext in before and after[ext][2] and after[ext] != before[ext]]
    assert added == ["wmsyncbignew0000000000000000001", "wmsyncbignew0000000000000000002"]
    assert len(inactivated) >= 3 and len(updated) >= 5
    assert second["counts"]["customers"] == {
        "added": len(added), "updated": len(updated), "inactivated": len(inactivated),
        "unchanged": sum(1 for a in after.values() if a[2]) - len(added) - len(updated), "skipped_as_member": 11}
    assert second["counts"]["organisations"]["inactivated"] == 2  # the pending corp's node and the removed corp

    writes.reset()
    third = run_sync(big_tenant)
    assert writes.directory() == 0
    assert third["counts"]["customers"]["unchanged"] == sum(1 for a in after.values() if a[2])
    assert_directory(big_tenant, world)


# --- WeCom slowing us down, crashes and time limits ----------------------------------------------------------------
@pytest.fixture
def no_waiting(monkeypatch):
    """Back-offs of 0 s (the delays themselves are a constant; what matters is that the run resumes after them)."""
    from chalicelib.handlers import sqs as sqs_handler

    monkeypatch.setattr(sync_run, "RATE_LIMIT_RETRY_SECONDS", 0)
    monkeypatch.setattr(sync_run, "BUSY_RETRY_SECONDS", 0)
    monkeypatch.setattr(sqs_handler, "backoff_seconds", lambda receive_count: 0)


def test_45009_and_busy_bursts_mid_run_back_off_and_resume(big_tenant, big_world, run_sync, simulator, no_waiting,
                                                           monkeypatch):
    """A burst longer than the client's own retries: the run checkpoints, continues in a delayed message and ends
    with the whole directory, the bursts recorded on the run."""
    real_apply = customers.apply_page
    pages_done = []

    def burst_after_three_pages(*args, **kwargs):
        outcome = real_apply(*args, **kwargs)
        pages_done.append(1)
        if len(pages_done) == 3:
            simulator.control.set_fault(BATCH_PATH, errcode=45009, times=6)
        return outcome

    monkeypatch.setattr(customers, "apply_page", burst_after_three_pages)
    simulator.control.set_fault("corpgroup/corp/get_chain_corpinfo_list", errcode=-1, times=5)
    run = run_sync(big_tenant)
    assert_directory(big_tenant, big_world)
    assert [error["code"] for error in run["errors"]] == ["wecom_45009", "wecom_-1"]
    assert run["invocations"] == 3 and run["status"] == "succeeded"
    assert len(simulator.control.calls(path=BATCH_PATH, errcode=45009)) == 6
    assert run["counts"]["customers"]["added"] == len(big_world.expected_contacts(big_tenant))


def test_a_crash_mid_run_resumes_from_the_checkpoint_without_duplicates(big_tenant, big_world, run_sync, simulator,
                                                                        no_waiting, monkeypatch):
    monkeypatch.setattr(sync_run, "CHECKPOINT_EVERY_SECONDS", 0)  # a checkpoint after every page
    real_write = customers.write_customers
    crashed: dict = {}

    def crash_in_the_second_batch(tenant_key, writes, security_level, run_id):
        batch = tuple(simulator.control.calls(path=BATCH_PATH)[-1]["body"]["userid_list"])
        first = crashed.setdefault("first_batch", batch)
        if batch != first and "calls" not in crashed and len(writes) > 10:
            real_write(tenant_key, writes[:5], security_level, run_id)  # half a page written, then the Lambda dies
            crashed["calls"] = len(simulator.control.calls(path=BATCH_PATH))
            raise RuntimeError("the Lambda died")
        return real_write(tenant_key, writes, security_level, run_id)

    monkeypatch.setattr(customers, "write_customers", crash_in_the_second_batch)
    run = run_sync(big_tenant)
    assert "calls" in crashed and run["invocations"] == 2
    assert_directory(big_tenant, big_world)  # one contact per customer, every follower, nothing twice
    after_crash = simulator.control.calls(path=BATCH_PATH)[crashed["calls"]:]
    assert after_crash and all(tuple(call["body"]["userid_list"]) != crashed["first_batch"] for call in after_crash)
    customer_counts = run["counts"]["customers"]
    # The five contacts written after the last checkpoint are found current when their page is applied again.
    assert customer_counts["added"] + customer_counts["unchanged"] == len(big_world.expected_contacts(big_tenant))
    assert customer_counts["updated"] == customer_counts["inactivated"] == 0


def test_a_run_out_of_time_continues_in_follow_up_messages(tenant, demo_world, run_sync, monkeypatch):
    monkeypatch.setattr(sync_run.Deadline, "expired", lambda self: True)  # every step is the invocation's last
    run = run_sync(tenant)
    assert_directory(tenant, demo_world)
    # customers' page; the batch's clean-up and the phase switch; chain 1; chain 2; the shared corps' listing and
    # the first shared corp; the second; the finish
    assert run["invocations"] == 6 and run["counts"]["customers"]["added"] == 11


def test_the_deadline_keeps_a_margin_proportional_to_short_budgets():
    class Context:
        remaining = 60_000

        def get_remaining_time_in_millis(self):
            return self.remaining

    context = Context()
    deadline = sync_run.Deadline.of_context(context)
    assert deadline.margin_seconds == 15 and not deadline.expired()
    context.remaining = 15_000
    assert deadline.expired()
    context.remaining = 900_000
    assert sync_run.Deadline.of_context(context).margin_seconds == sync_run.SAFETY_MARGIN_SECONDS


class LambdaKilled(BaseException):
    """The invocation's time or memory ran out: nothing after this point of it runs, not even its error handling."""


def test_a_killed_sync_invocation_is_resumed_once_its_short_hold_runs_out(tenant, demo_world, sync_queue,
                                                                        monkeypatch):
    """The sync Lambda (900 s budget, as deployed) is killed mid-run. Its message was held for the queue's short hold,
    renewed while it ran, not for the whole budget; once the hold runs out, the redelivered message takes the run
    over from the dead invocation and finishes it from its checkpoint."""
    from app import app
    from chalicelib.core import clock
    from chalicelib.store import queues
    from dev.pump import EventPump

    held: list[tuple[str, int]] = []
    hold = queues.set_visibility

    def recorded(logical_name: str, receipt_handle: str, seconds: int) -> None:
        held.append((receipt_handle, seconds))
        hold(logical_name, receipt_handle, seconds)

    monkeypatch.setattr(queues, "set_visibility", recorded)
    real_apply = customers.apply_page

    def killed_on_the_first_page(*args, **kwargs):
        monkeypatch.setattr(customers, "apply_page", real_apply)
        raise LambdaKilled()

    monkeypatch.setattr(customers, "apply_page", killed_on_the_first_page)
    run_id = sync_triggers.queue_run(tenant, "admin")
    pump = EventPump(app, timeout_seconds=900)
    with pytest.raises(LambdaKilled):
        pump.deliver_once(QUEUE)
    assert held and {seconds for _handle, seconds in held} == {queues.SYNC.hold_seconds}
    assert queues.SYNC.hold_seconds <= 300
    assert sync_queue.bodies() == []  # hidden while held
    # The hold runs out: SQS shows the message again, and the dead invocation's lease has lapsed with it.
    later = time.time() + queues.SYNC.hold_seconds + 1
    monkeypatch.setattr(clock, "now", lambda: later)
    hold("sync", held[-1][0], 0)
    pump.drain(QUEUE)
    run = sync_checkpoint.describe_run(sync_runs.get_run(tenant.tenant_key, run_id))
    assert run["status"] == "succeeded" and run["invocations"] == 2
    assert_directory(tenant, demo_world)


def test_an_admin_sync_request_while_a_run_is_live_is_told_which_run(tenant, demo_world, client, pump, sync_queue,
                                                                     monkeypatch):
    """The run id the admin is given is the run that does the work and is listed from the start; a request while it
    is queued or under way answers 409 sync_in_progress naming it, instead of an id that never appears."""
    secrets.merge(tenant.secret_id, {"admin_token": ADMIN_TOKEN})
    headers = {"X-Yunqiao-Admin-Token": ADMIN_TOKEN}
    path = f"/api/admin/tenants/{tenant.tenant_key}/sync"

    def listed() -> list[dict]:
        reply = client.http.get(f"{path}/runs", headers=headers)
        assert reply.status_code == 200
        return json.loads(reply.body)["runs"]

    def refused_naming(run_id: str) -> None:
        reply = client.http.post(path, headers=headers)
        error = json.loads(reply.body)["error"]
        assert reply.status_code == 409 and error["code"] == "sync_in_progress" and run_id in error["message"]

    accepted = client.http.post(path, headers=headers)
    assert accepted.status_code == 202
    run_id = json.loads(accepted.body)["runId"]
    assert [(run["runId"], run["status"]) for run in listed()] == [(run_id, "running")]
    refused_naming(run_id)  # queued, not started
    stop_after_each_step = {"on": True}
    monkeypatch.setattr(sync_run.Deadline, "expired", lambda self: stop_after_each_step["on"])
    assert pump.deliver_once(QUEUE) == 1  # one step, then a follow-up message
    refused_naming(run_id)  # under way
    stop_after_each_step["on"] = False
    pump.drain(QUEUE)
    assert [(run["runId"], run["status"]) for run in listed()] == [(run_id, "succeeded")]
    assert_directory(tenant, demo_world)
    again = client.http.post(path, headers=headers)
    assert again.status_code == 202 and json.loads(again.body)["runId"] != run_id
    pump.drain(QUEUE)


# --- one run per tenant at a time ----------------------------------------------------------------------------------
def test_runs_never_overlap_and_requests_meanwhile_become_one_follow_up_run(tenant, demo_world, pump, sync_queue,
                                                                          monkeypatch):
    stop_after_each_step = {"on": True}
    monkeypatch.setattr(sync_run.Deadline, "expired", lambda self: stop_after_each_step["on"])
    first = sync_triggers.queue_run(tenant, "admin")
    requested = [sync_triggers.queue_run(tenant, "admin"), sync_triggers.queue_run(tenant, "create_auth")]
    scheduled = sync_triggers.request_body(tenant.tenant_key, sync_triggers.new_run_id(), "schedule",
                                           sync_triggers.FULL)
    sync_runs_queue_send(scheduled)
    assert pump.deliver_once(QUEUE) == 1  # the first run starts, does one step and queues its continuation
    assert sync_runs.lease_of(tenant.tenant_key).holder == first
    for _ in range(3):  # the three requests arrive while it is under way
        assert pump.deliver_once(QUEUE) == 1
        assert sync_runs.get_run(tenant.tenant_key, first).status == "running"
    lease = sync_runs.lease_of(tenant.tenant_key)
    assert lease.holder == first and lease.pending_full is True
    stop_after_each_step["on"] = False
    pump.drain(QUEUE)
    runs = {run["runId"]: run for run in sync_checkpoint.latest_runs(tenant, 10)}
    assert set(runs) & set(requested) == set() and scheduled["runId"] not in runs  # never started
    follow_up = next(run for run_id, run in runs.items() if run_id != first)
    assert len(runs) == 2 and follow_up["trigger"] == "requested_during_run"
    assert runs[first]["status"] == follow_up["status"] == "succeeded"
    assert runs[first]["finishedAt"] <= follow_up["startedAt"]
    assert sync_runs.lease_of(tenant.tenant_key).holder is None
    assert_directory(tenant, demo_world)


def sync_runs_queue_send(body: dict) -> None:
    from chalicelib.store import queues

    queues.send(queues.SYNC.logical_name, body)


def test_the_lease_admits_one_run_and_its_next_invocation_and_expires(tenant):
    key = tenant.tenant_key
    assert sync_runs.acquire(key, "run-a", "inv-1", 1000, 1900, 4600).acquired
    assert sync_runs.acquire(key, "run-b", "inv-2", 1001, 1900, 4600) == sync_runs.Acquisition(False, "run-a")
    assert sync_runs.acquire(key, "run-a", "inv-3", 1002, 1900, 4600) == sync_runs.Acquisition(False, "run-a")
    assert sync_runs.request_rerun(key, "run-b", True, (), 1003)
    assert sync_runs.request_rerun(key, "run-c", False, ("Ch1",), 1003)
    assert sync_runs.release_invocation(key, "run-a", "inv-1", 5000)
    assert not sync_runs.release_invocation(key, "run-a", "inv-1", 5000)
    assert sync_runs.acquire(key, "run-a", "inv-4", 1004, 1900, 4600).acquired  # the run's next invocation
    assert sync_runs.release(key, "run-a", "inv-1") is None  # not the invocation holding it
    assert sync_runs.release(key, "run-a", "inv-4") == sync_runs.Pending(True, ("Ch1",))
    assert not sync_runs.request_rerun(key, "run-b", True, (), 1005)  # nobody holds it: run-b may go
    assert sync_runs.acquire(key, "run-b", "inv-5", 1005, 1900, 2000).acquired
    taken = sync_runs.acquire(key, "run-c", "inv-6", 2001, 2900, 5600)  # run-b's lease has expired
    assert taken == sync_runs.Acquisition(True, "run-c", "run-b")
    assert sync_runs.release(key, "run-c", "inv-6") == sync_runs.Pending(False, ())


def test_a_checkpoint_from_an_invocation_that_lost_the_run_is_refused(tenant):
    key = tenant.tenant_key
    sync_runs.start(key, "run-x", "admin", sync_triggers.FULL.to_dict(), sync_checkpoint.Checkpoint().to_json())
    assert sync_runs.save_checkpoint(key, "run-x", 0, sync_checkpoint.Checkpoint(after="u1").to_json(), {}, [])
    assert not sync_runs.save_checkpoint(key, "run-x", 0, sync_checkpoint.Checkpoint(after="u0").to_json(), {}, [])
    assert sync_checkpoint.Checkpoint.from_json(sync_runs.get_run(key, "run-x").checkpoint).after == "u1"
    assert sync_runs.finish(key, "run-x", 1, sync_runs.SUCCEEDED, "{}", {}, [])
    assert not sync_runs.abandon(key, "run-x", "too late")


# --- 上下游 -------------------------------------------------------------------------------------------------------
def test_a_chain_change_resyncs_that_chain_only(tenant, demo_world, run_sync, pump, simulator):
    run_sync(tenant)
    world = demo_world
    assert_directory(tenant, world)
    world.remove_chain_corp(simulator, "Chdemo0002", "wwdown0004")
    world.put_chain_corp(simulator, "Chdemo0002", "wwdown0009", "东岳建材", 1, joined=False)
    simulator.control.add_chain_corp("Chdemo0001", {"corpid": "wwdown0010", "corp_name": "西岭科技", "groupid": 1})
    simulator.control.reset_calls()
    sync_triggers.request_chain_sync(tenant, "Chdemo0002")
    pump.drain(QUEUE)
    run = latest_run(tenant)
    assert run["status"] == "succeeded" and run["scope"] == {"customers": False, "chains": ["Chdemo0002"]}
    assert simulator.control.calls(path=BATCH_PATH) == []
    assert {call["body"]["chain_id"] for call in simulator.control.calls(path="corpgroup/corp/get_chain_group")} == {
        "Chdemo0002"}
    assert active_chain_nodes(tenant.tenant_key) == world.expected_chain_nodes()  # Chdemo0001's news not yet in
    assert run["counts"]["organisations"]["added"] == 1 and run["counts"]["organisations"]["inactivated"] == 1
    world.put_chain_corp(simulator, "Chdemo0001", "wwdown0010", "西岭科技", 1, joined=True)
    run_sync(tenant)
    assert_directory(tenant, world)


# --- admin HTTP ----------------------------------------------------------------------------------------------------
def test_admins_trigger_a_sync_and_read_the_latest_runs(tenant, client, pump, make_tenant, sync_queue):
    def sync_queue_is_empty() -> bool:
        return sync_queue.bodies() == []

    path = f"/api/admin/tenants/{tenant.tenant_key}/sync"
    secrets.merge(tenant.secret_id, {"admin_token": ADMIN_TOKEN})
    assert client.http.post(path).status_code == 401
    wrong = client.http.post(path, headers={"X-Yunqiao-Admin-Token": ADMIN_TOKEN + "x"})
    assert wrong.status_code == 401 and json.loads(wrong.body)["error"]["code"] == "bad_admin_token"
    assert client.http.post("/api/admin/tenants/tnmissing00/sync",
                            headers={"X-Yunqiao-Admin-Token": ADMIN_TOKEN}).status_code == 404
    other = make_tenant()  # no admin token set up: refused whatever is presented
    refused = client.http.post(f"/api/admin/tenants/{other.tenant_key}/sync",
                               headers={"X-Yunqiao-Admin-Token": ADMIN_TOKEN})
    assert refused.status_code == 403 and json.loads(refused.body)["error"]["code"] == "admin_not_configured"
    secrets.merge(other.secret_id, {"admin_token": "another"})
    assert client.http.get(f"/api/admin/tenants/{other.tenant_key}/sync/runs",
                           headers={"X-Yunqiao-Admin-Token": ADMIN_TOKEN}).status_code == 401
    assert sync_queue_is_empty()

    accepted = client.http.post(path, headers={"x-yunqiao-admin-token": ADMIN_TOKEN})
    assert accepted.status_code == 202
    run_id = json.loads(accepted.body)["runId"]
    pump.drain(QUEUE)
    listed = client.http.get(f"{path}/runs?limit=5", headers={"X-Yunqiao-Admin-Token": ADMIN_TOKEN})
    assert listed.status_code == 200
    [run] = json.loads(listed.body)["runs"]
    assert run["runId"] == run_id and run["trigger"] == "admin" and run["status"] == "succeeded"
    assert run["counts"]["customers"]["added"] == 11 and run["startedAt"] <= run["finishedAt"]
    for limit in ("0", "51", "x"):
        bad = client.http.get(f"{path}/runs?limit={limit}", headers={"X-Yunqiao-Admin-Token": ADMIN_TOKEN})
        assert bad.status_code == 400 and json.loads(bad.body)["error"]["code"] == "invalid_limit"
