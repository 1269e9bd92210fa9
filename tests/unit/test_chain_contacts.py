"""上下游 contacts' pure logic: ids, where a downstream corp's members are filed, the fields WeCom owns, the run's
chain-contact counts. No emulator, no simulator."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.directory import chain_contacts
from chalicelib.store import contacts, organisations
from chalicelib.store.tenants import Tenant, TenantSettings
from chalicelib.sync import checkpoint as sync_checkpoint

CORPID = st.text(alphabet="wabcxyz0123456789", min_size=2, max_size=18)
USERID = st.text(alphabet="aAzZ09_-.@", min_size=1, max_size=12)
TENANT = Tenant("tnunit0001", name="单元", mode="self_built", corp_id="wwunit", secret_id="s",
                settings=TenantSettings(chain_dimension_name="合作链"))
CHAIN_HOME = chain_contacts.CorpHome(organisations.chain_corp_id("Ch1", "wwdown", False), "海川物流")


@given(CORPID, USERID)
def test_a_chain_contact_id_gives_back_its_corp_and_member(corpid, userid):
    contact_id = contacts.chain_contact_id(corpid, userid)
    assert contacts.chain_contact_corp(contact_id) == corpid
    prefix = contacts.chain_contacts_prefix(corpid)
    assert contact_id.startswith(prefix) and contact_id[len(prefix):] == userid
    assert contact_id.startswith(contacts.CHAIN_CONTACTS_PREFIX)


@given(CORPID, CORPID, USERID)
def test_one_corps_prefix_never_takes_in_another_corps_contacts(corpid, other, userid):
    if corpid != other:
        assert not contacts.chain_contact_id(other, userid).startswith(contacts.chain_contacts_prefix(corpid))


def test_the_fields_wecom_owns_and_the_tenants_dimension_name():
    fields = chain_contacts.contact_fields(TENANT, {"corpid": "wwdown", "corp_name": "海川物流"}, CHAIN_HOME,
                                           {"userid": "zhou", "name": "周经理", "position": "", "mobile": "138"})
    assert fields == {"name": "周经理", "position": None, "corp_name": "海川物流",
                      "organisation_id": CHAIN_HOME.organisation_id, "org_name": "海川物流",
                      "dimension_id": organisations.CHAIN_DIMENSION_ID, "dimension_name": "合作链"}
    nameless = chain_contacts.contact_fields(TENANT, {"corpid": "wwdown"}, CHAIN_HOME, {"userid": "zhou"})
    assert nameless["name"] == "zhou" and nameless["corp_name"] is None


def test_the_content_hash_sees_every_owned_field_and_nothing_else():
    member = {"userid": "zhou", "name": "周经理", "position": "销售经理"}
    base = chain_contacts.content_hash(chain_contacts.contact_fields(TENANT, {"corpid": "c", "corp_name": "A"},
                                                                     CHAIN_HOME, member))
    moved = chain_contacts.CorpHome(organisations.shared_corp_id("c"), "A")
    variants = [
        ({"corpid": "c", "corp_name": "B"}, CHAIN_HOME, member),
        ({"corpid": "c", "corp_name": "A"}, moved, member),
        ({"corpid": "c", "corp_name": "A"}, CHAIN_HOME, {**member, "position": "总监"}),
        ({"corpid": "c", "corp_name": "A"}, CHAIN_HOME, {**member, "name": "周总"}),
    ]
    hashes = {chain_contacts.content_hash(chain_contacts.contact_fields(TENANT, *v)) for v in variants}
    assert base not in hashes and len(hashes) == len(variants)
    unowned = {**member, "mobile": "13800000000", "department": [2]}
    assert chain_contacts.content_hash(chain_contacts.contact_fields(
        TENANT, {"corpid": "c", "corp_name": "A"}, CHAIN_HOME, unowned)) == base


def test_a_corp_no_chain_lists_gets_an_organisation_of_its_own_under_the_dimension():
    home = chain_contacts.own_home({"corpid": "wwshare", "corp_name": "共享企业", "agentid": 1000101})
    assert home.organisation_id == organisations.shared_corp_id("wwshare") == "dorg#wwshare"
    assert home.name == "共享企业" and home.spec is not None
    assert (home.spec.kind, home.spec.parent_id, home.spec.dimension_id, home.spec.source) == (
        organisations.ORGANISATION, organisations.CHAIN_DIMENSION_ID, organisations.CHAIN_DIMENSION_ID,
        organisations.SOURCE_WECOM_CHAIN)
    assert home.spec.wecom == {"corpid": "wwshare"}
    assert chain_contacts.own_home({"corpid": "wwbare"}).name == "wwbare"


def test_the_checkpoint_counts_chain_contacts_and_failed_corps_once():
    cp = sync_checkpoint.Checkpoint()
    cp.add_chain_contacts({"added": 2, "unchanged": 1})
    cp.add_chain_contacts({"added": 1, "inactivated": 1, "corps": 1})
    cp.corps_failed = ["wwdown0001"]
    cp.shared_after, cp.member_after = "wwdown0001", "zhou"
    again = sync_checkpoint.Checkpoint.from_json(cp.to_json())
    assert again == cp
    assert again.counts_view()["chain_contacts"] == {"added": 3, "updated": 0, "unchanged": 1, "inactivated": 1,
                                                     "corps": 1, "corps_failed": 1}


def test_a_checkpoint_saved_before_chain_contacts_existed_still_loads():
    old = '{"phase": "chains", "chains_done": ["Ch1"]}'
    cp = sync_checkpoint.Checkpoint.from_json(old)
    assert cp.phase == sync_checkpoint.CHAINS and cp.shared_after is None and cp.corps_failed == []
    assert cp.counts_view()["chain_contacts"]["added"] == 0
