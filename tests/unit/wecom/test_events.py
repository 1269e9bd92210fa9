"""Typed events from both delivery forms, unknown kinds, the round trip through fields, and dedupe keys."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.wecom.events import (
    CancelAuth, ChainChange, ChangeAuth, ContactChange, CreateAuth, ExternalContactChange, ResetPermanentCode,
    ShareChainChange, SuiteTicket, UnknownEvent, WeComEvent, event_from_fields, parse_event,
)
from chalicelib.wecom.xmlparse import XmlError

CORP = "wwcorp0000000001"
SUITE = "wwsuite000000001"


def self_built(event: str, create_time: int | str = 1700000000, **fields: str) -> str:
    """A self-built app's callback: MsgType=event, ToUserName is the corp."""
    body = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
    return (f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>"
            f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[{event}]]></Event>{body}</xml>")


def suite(info_type: str, timestamp: int = 1700000000, corp: str | None = CORP, **fields: str) -> str:
    """A third-party suite's callback: InfoType, SuiteId, AuthCorpId (absent for suite-level ones), TimeStamp."""
    corp_xml = f"<AuthCorpId><![CDATA[{corp}]]></AuthCorpId>" if corp else ""
    body = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
    return (f"<xml><SuiteId><![CDATA[{SUITE}]]></SuiteId>{corp_xml}<InfoType><![CDATA[{info_type}]]></InfoType>"
            f"<TimeStamp>{timestamp}</TimeStamp>{body}</xml>")


FORMS = {"self_built": self_built, "suite": suite}

EXTERNAL_CHANGE_TYPES = ["add_external_contact", "edit_external_contact", "add_half_external_contact",
                         "del_external_contact", "del_follow_user", "transfer_fail"]


# --- change_external_contact ------------------------------------------------------------------------

@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("change_type", EXTERNAL_CHANGE_TYPES)
def test_external_contact_change_in_both_forms(form, change_type):
    event = parse_event(FORMS[form]("change_external_contact", ChangeType=change_type, UserID="zhangsan",
                                    ExternalUserID="wmEXT1"))
    assert type(event) is ExternalContactChange
    assert (event.kind, event.change_type, event.user_id, event.external_user_id) == \
        ("change_external_contact", change_type, "zhangsan", "wmEXT1")
    assert event.corp_id == CORP
    assert event.create_time == 1700000000
    assert event.suite_id == (SUITE if form == "suite" else "")
    assert event.is_suite_instruction is False


def test_both_forms_give_the_same_typed_attributes():
    attrs = dict(ChangeType="add_external_contact", UserID="zhangsan", ExternalUserID="wmEXT1",
                 State="invite_tn1", WelcomeCode="WELCOME")
    a, b = parse_event(self_built("change_external_contact", **attrs)), parse_event(
        suite("change_external_contact", **attrs))
    for name in ("kind", "change_type", "corp_id", "create_time", "user_id", "external_user_id", "state",
                 "welcome_code"):
        assert getattr(a, name) == getattr(b, name), name


def test_add_external_contact_carries_state_and_welcome_code():
    event = parse_event(self_built("change_external_contact", ChangeType="add_external_contact", UserID="u",
                                   ExternalUserID="wm1", State="teststate", WelcomeCode="WELCOMECODE"))
    assert (event.state, event.welcome_code) == ("teststate", "WELCOMECODE")


def test_del_external_contact_by_transfer():
    event = parse_event(self_built("change_external_contact", ChangeType="del_external_contact", UserID="u",
                                   ExternalUserID="wm1", Source="DELETE_BY_TRANSFER"))
    assert event.source == "DELETE_BY_TRANSFER"


@pytest.mark.parametrize("reason", ["customer_refused", "customer_limit_exceed"])
def test_transfer_fail_reason(reason):
    event = parse_event(suite("change_external_contact", ChangeType="transfer_fail", UserID="u",
                              ExternalUserID="wm1", FailReason=reason))
    assert (type(event), event.fail_reason) == (ExternalContactChange, reason)


def test_missing_attributes_default_to_empty():
    event = parse_event(self_built("change_external_contact", ChangeType="del_follow_user"))
    assert (event.user_id, event.external_user_id, event.state, event.source) == ("", "", "", "")


def test_unknown_external_contact_change_type_is_an_unknown_event():
    event = parse_event(self_built("change_external_contact", ChangeType="msg_audit_approved", UserID="u"))
    assert type(event) is UnknownEvent
    assert (event.kind, event.change_type, event.corp_id) == ("change_external_contact", "msg_audit_approved", CORP)


# --- change_contact ---------------------------------------------------------------------------------

@pytest.mark.parametrize("form", FORMS)
def test_create_user(form):
    event = parse_event(FORMS[form]("change_contact", ChangeType="create_user", UserID="zhangsan", Name="张三",
                                    Department="1,2,3", Mobile="13800000000"))
    assert type(event) is ContactChange
    assert (event.change_type, event.user_id, event.name, event.departments) == \
        ("create_user", "zhangsan", "张三", (1, 2, 3))
    assert event.fields["Mobile"] == "13800000000"


@pytest.mark.parametrize("form", FORMS)
def test_update_user_with_rename(form):
    event = parse_event(FORMS[form]("change_contact", ChangeType="update_user", UserID="zhangsan",
                                    NewUserID="zhangsan2", Department="5"))
    assert (type(event), event.user_id, event.new_user_id, event.departments) == \
        (ContactChange, "zhangsan", "zhangsan2", (5,))


@pytest.mark.parametrize("form", FORMS)
def test_delete_user(form):
    event = parse_event(FORMS[form]("change_contact", ChangeType="delete_user", UserID="zhangsan"))
    assert (type(event), event.change_type, event.user_id, event.departments) == \
        (ContactChange, "delete_user", "zhangsan", ())


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("change_type", ["create_party", "update_party"])
def test_party_changes(form, change_type):
    event = parse_event(FORMS[form]("change_contact", ChangeType=change_type, Id="2", Name="销售部",
                                    ParentId="1", Order="1"))
    assert (type(event), event.change_type, event.party_id, event.name, event.parent_id) == \
        (ContactChange, change_type, 2, "销售部", 1)


@pytest.mark.parametrize("form", FORMS)
def test_delete_party(form):
    event = parse_event(FORMS[form]("change_contact", ChangeType="delete_party", Id="7"))
    assert (type(event), event.party_id, event.parent_id) == (ContactChange, 7, None)


@pytest.mark.parametrize("form", FORMS)
def test_update_tag(form):
    event = parse_event(FORMS[form]("change_contact", ChangeType="update_tag", TagId="9",
                                    AddUserItems="u1,u2", DelPartyItems="3"))
    assert (type(event), event.change_type, event.tag_id) == (ContactChange, "update_tag", 9)
    assert event.fields["AddUserItems"] == "u1,u2"


def test_garbled_numbers_are_absent_not_errors():
    event = parse_event(self_built("change_contact", ChangeType="update_party", Id="abc", ParentId="",
                                   Department="1,x,,3"))
    assert (event.party_id, event.parent_id, event.departments) == (None, None, (1, 3))


def test_unknown_contact_change_type_is_an_unknown_event():
    event = parse_event(self_built("change_contact", ChangeType="something_new", UserID="u"))
    assert (type(event), event.change_type) == (UnknownEvent, "something_new")


# --- change_chain -----------------------------------------------------------------------------------

@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("change_type", ["create_chain", "update_chain", "remove_corp_from_chain_unverified"])
def test_chain_change_keeps_every_change_type(form, change_type):
    event = parse_event(FORMS[form]("change_chain", ChangeType=change_type, ChainId="chain42"))
    assert (type(event), event.change_type, event.chain_id) == (ChainChange, change_type, "chain42")


# --- suite instructions -----------------------------------------------------------------------------

def test_suite_ticket():
    event = parse_event(suite("suite_ticket", corp=None, SuiteTicket="TICKET123"))
    assert (type(event), event.suite_ticket, event.suite_id, event.corp_id) == (SuiteTicket, "TICKET123", SUITE, "")
    assert event.is_suite_instruction


def test_create_auth():
    event = parse_event(suite("create_auth", corp=None, AuthCode="AUTHCODE", State="tn1"))
    assert (type(event), event.auth_code, event.state) == (CreateAuth, "AUTHCODE", "tn1")
    assert event.is_suite_instruction


@pytest.mark.parametrize("info_type, cls", [("change_auth", ChangeAuth), ("cancel_auth", CancelAuth)])
def test_change_and_cancel_auth(info_type, cls):
    event = parse_event(suite(info_type, corp="wwauthcorp"))
    assert (type(event), event.auth_corp_id, event.corp_id) == (cls, "wwauthcorp", "wwauthcorp")
    assert event.is_suite_instruction


def test_reset_permanent_code():
    event = parse_event(suite("reset_permanent_code", corp="wwauthcorp", AuthCode="NEWCODE"))
    assert (type(event), event.auth_code) == (ResetPermanentCode, "NEWCODE")
    assert event.is_suite_instruction


def test_share_chain_change():
    event = parse_event(suite("share_chain_change", corp="wwauthcorp"))
    assert type(event) is ShareChainChange
    assert event.is_suite_instruction


def test_secrets_stay_out_of_repr():
    assert "AUTHCODE" not in repr(parse_event(suite("create_auth", AuthCode="AUTHCODE")))
    assert "TICKET123" not in repr(parse_event(suite("suite_ticket", SuiteTicket="TICKET123")))


# --- unknown kinds ----------------------------------------------------------------------------------

@pytest.mark.parametrize("body, kind", [
    (self_built("enter_agent", EventKey=""), "enter_agent"),
    (self_built("change_external_chat", ChatId="wr1", ChangeType="create"), "change_external_chat"),
    (suite("brand_new_info_type", Foo="bar"), "brand_new_info_type"),
    ("<xml><ToUserName>ww</ToUserName><MsgType>text</MsgType><Content>hi</Content>"
     "<CreateTime>5</CreateTime></xml>", "text"),
    ("<xml/>", ""),
])
def test_unknown_kinds_are_unknown_events(body, kind):
    event = parse_event(body)
    assert (type(event), event.kind) == (UnknownEvent, kind)
    assert event.is_suite_instruction is False


def test_every_event_is_a_wecom_event():
    assert isinstance(parse_event("<xml/>"), WeComEvent)
    assert isinstance(parse_event(suite("suite_ticket")), WeComEvent)


def test_create_time_garbage_is_zero():
    assert parse_event(self_built("change_contact", create_time="soon", ChangeType="delete_user")).create_time == 0


def test_malformed_xml_is_an_xml_error():
    with pytest.raises(XmlError):
        parse_event(b"<xml><Event>change_contact</Event>")


# --- round trip through fields --------------------------------------------------------------------

SAMPLES = [
    self_built("change_external_contact", ChangeType="add_external_contact", UserID="u", ExternalUserID="wm1",
               State="s", WelcomeCode="w"),
    suite("change_external_contact", ChangeType="transfer_fail", UserID="u", ExternalUserID="wm1",
          FailReason="customer_refused"),
    self_built("change_contact", ChangeType="create_user", UserID="u", Name="张三", Department="1,2"),
    suite("change_contact", ChangeType="update_party", Id="2", Name="d", ParentId="1"),
    self_built("change_contact", ChangeType="update_tag", TagId="3"),
    self_built("change_chain", ChangeType="update_chain", ChainId="c1"),
    suite("suite_ticket", corp=None, SuiteTicket="t"),
    suite("create_auth", corp=None, AuthCode="a", State="s"),
    suite("change_auth"), suite("cancel_auth"), suite("reset_permanent_code", AuthCode="a"),
    suite("share_chain_change"),
    self_built("enter_agent"),
]


@pytest.mark.parametrize("body", SAMPLES)
def test_event_from_its_fields_is_equal(body):
    event = parse_event(body)
    assert event_from_fields(event.fields) == event
    assert event_from_fields(json.loads(json.dumps(event.fields))) == event
    assert hash(event_from_fields(event.fields)) == hash(event)
    assert event_from_fields(event.fields).dedupe_key == event.dedupe_key


def test_fields_are_copied_not_shared():
    fields = {"MsgType": "event", "Event": "change_contact", "ChangeType": "delete_user", "UserID": "u"}
    event = event_from_fields(fields)
    fields["UserID"] = "changed"
    assert event.fields["UserID"] == "u"


# --- dedupe keys ---------------------------------------------------------------------------------

def add(user: str = "zhangsan", external: str = "wmA", ts: int = 1700000000, form=self_built, **extra: str):
    return parse_event(form("change_external_contact", ts, ChangeType="add_external_contact", UserID=user,
                            ExternalUserID=external, **extra))


def test_two_adds_in_one_second_differing_only_in_external_user_id_have_different_keys():
    assert add(external="wmA").dedupe_key != add(external="wmB").dedupe_key


def test_two_adds_in_one_second_differing_only_in_user_id_have_different_keys():
    assert add(user="zhangsan").dedupe_key != add(user="lisi").dedupe_key


def test_redelivery_has_the_same_key():
    first = add()
    again = parse_event(
        "<xml>\n  <ToUserName>wwcorp0000000001</ToUserName>\n  <FromUserName>sys</FromUserName>\n"
        "  <CreateTime>1700000000</CreateTime><MsgType>event</MsgType><Event>change_external_contact</Event>\n"
        "  <ChangeType>add_external_contact</ChangeType><ExternalUserID>wmA</ExternalUserID>"
        "<UserID>zhangsan</UserID>\n</xml>")
    assert again.dedupe_key == first.dedupe_key


@pytest.mark.parametrize("other", [
    lambda: add(ts=1700000001),
    lambda: add(form=suite),
    lambda: parse_event(self_built("change_external_contact", ChangeType="del_external_contact",
                                   UserID="zhangsan", ExternalUserID="wmA")),
    lambda: parse_event(self_built("change_external_contact", ChangeType="add_external_contact",
                                   UserID="zhangsan", ExternalUserID="wmA").replace(CORP, "wwothercorp")),
])
def test_sender_time_and_change_type_are_in_the_key(other):
    assert other().dedupe_key != add().dedupe_key


def test_two_suite_corps_with_the_same_user_ids_have_different_keys():
    a = parse_event(suite("change_external_contact", corp="wwcorpA", ChangeType="add_external_contact",
                          UserID="zhangsan", ExternalUserID="wmA"))
    b = parse_event(suite("change_external_contact", corp="wwcorpB", ChangeType="add_external_contact",
                          UserID="zhangsan", ExternalUserID="wmA"))
    assert a.dedupe_key != b.dedupe_key


@pytest.mark.parametrize("make", [
    lambda v: self_built("change_chain", ChangeType="update_chain", ChainId=v),
    lambda v: suite("create_auth", corp=None, AuthCode=v),
    lambda v: suite("suite_ticket", corp=None, SuiteTicket=v),
    lambda v: self_built("change_contact", ChangeType="update_user", UserID="u", NewUserID=v),
    lambda v: self_built("change_contact", ChangeType="update_party", Id=v),
    lambda v: self_built("change_contact", ChangeType="update_tag", TagId=v),
])
def test_distinguishing_ids_are_in_the_key(make):
    assert parse_event(make("1")).dedupe_key != parse_event(make("2")).dedupe_key


def test_key_ignores_fields_that_do_not_identify_the_event():
    assert add(State="a").dedupe_key == add(State="b").dedupe_key


def test_key_is_a_short_hex_digest():
    key = add(user="u" * 500).dedupe_key
    assert len(key) == 64 and int(key, 16) >= 0


def test_key_separates_fields_unambiguously():
    # Plain concatenation would make ("ab", "c") and ("a", "bc") collide.
    assert add(user="ab", external="c").dedupe_key != add(user="a", external="bc").dedupe_key


@given(a=st.text(min_size=1, max_size=30), b=st.text(min_size=1, max_size=30))
def test_different_external_user_ids_never_share_a_key(a, b):
    def make(ext: str) -> WeComEvent:
        return event_from_fields({"ToUserName": CORP, "CreateTime": "1700000000", "MsgType": "event",
                                  "Event": "change_external_contact", "ChangeType": "add_external_contact",
                                  "UserID": "zhangsan", "ExternalUserID": ext})
    assert (make(a).dedupe_key == make(b).dedupe_key) == (a == b)
