"""Typed WeCom callback events, from either delivery form.

A self-built app receives ``MsgType=event`` documents (``Event``, ``ToUserName`` = corpid, ``CreateTime``);
a third-party suite receives ``InfoType`` documents (``SuiteId``, ``AuthCorpId``, ``TimeStamp``). Both map to
the same types so consumers never care which door an event came through. Anything unrecognised becomes an
:class:`UnknownEvent`: WeCom adds kinds over time and an unknown one must be accepted, never rejected.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from .xmlparse import DEFAULT_MAX_BYTES, parse_xml

SUITE_INSTRUCTION_KINDS = frozenset({
    "suite_ticket", "create_auth", "change_auth", "cancel_auth", "reset_permanent_code", "share_chain_change",
})

# Ids that tell apart two events of the same kind, sender and second (see WeComEvent.dedupe_key).
_DEDUPE_ID_FIELDS = (
    "UserID", "ExternalUserID", "NewUserID", "Id", "TagId", "ChainId", "AuthCode", "SuiteTicket",
    "MsgId", "FromUserName",
)


@dataclass(frozen=True)
class WeComEvent:
    """Attributes every event has. ``fields`` is the flat document, kept so the event can travel as JSON
    (e.g. in an SQS message) and be rebuilt with :func:`event_from_fields`."""

    # The change types a subclass models; any other routes the event to UnknownEvent. Empty: all of them.
    known_change_types: ClassVar[frozenset[str]] = frozenset()

    fields: dict[str, str] = field(hash=False, repr=False)
    kind: str
    change_type: str
    corp_id: str
    suite_id: str
    create_time: int

    @classmethod
    def _attributes(cls, f: dict[str, str]) -> dict[str, object]:
        """The type's own attributes, read from the flat document."""
        return {}

    @property
    def is_suite_instruction(self) -> bool:
        """True for the callbacks that must be answered with the literal ``success`` within 1000 ms."""
        return self.kind in SUITE_INSTRUCTION_KINDS

    @property
    def dedupe_key(self) -> str:
        """A stable key for dropping WeCom's redeliveries (a callback not answered in 5 s comes again).

        It covers the sender (suite and corp), CreateTime/TimeStamp, kind and ChangeType, plus the ids
        that distinguish events of one kind in one second. UserID and ExternalUserID are essential: when a
        member adds two customers in the same second, the two add_external_contact events differ only in
        ExternalUserID, and a key without it would silently drop a real customer. A redelivery carries the
        same document, hence the same key. Hashed so its length is fixed whatever the ids hold.
        """
        parts = [self.suite_id, self.corp_id, str(self.create_time), self.kind, self.change_type]
        parts.extend(self.fields.get(name, "") for name in _DEDUPE_ID_FIELDS)
        return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()


# The kinds compare and hash as WeComEvent does (`eq=False`): `fields`, the whole document, is what every attribute
# of theirs is read from, so comparing it covers them; and each generated `__eq__`/`__hash__` costs a cold start.
@dataclass(frozen=True, eq=False)
class ExternalContactChange(WeComEvent):
    """change_external_contact: a member's customers were added, edited, removed or not transferred."""

    known_change_types: ClassVar[frozenset[str]] = frozenset({
        "add_external_contact", "edit_external_contact", "add_half_external_contact",
        "del_external_contact", "del_follow_user", "transfer_fail",
    })

    user_id: str = ""
    external_user_id: str = ""
    state: str = ""
    welcome_code: str = ""
    source: str = ""
    fail_reason: str = ""

    @classmethod
    def _attributes(cls, f: dict[str, str]) -> dict[str, object]:
        return {"user_id": f.get("UserID", ""), "external_user_id": f.get("ExternalUserID", ""),
                "state": f.get("State", ""), "welcome_code": f.get("WelcomeCode", ""),
                "source": f.get("Source", ""), "fail_reason": f.get("FailReason", "")}


@dataclass(frozen=True, eq=False)
class ContactChange(WeComEvent):
    """change_contact: members, departments or tags changed. ``name`` is the member's name for user
    changes and the department's for party changes. Newer contacts-sync callbacks may carry only UserID
    and Department, so consumers should fetch the member when they need more."""

    known_change_types: ClassVar[frozenset[str]] = frozenset({
        "create_user", "update_user", "delete_user", "create_party", "update_party", "delete_party", "update_tag",
    })

    user_id: str = ""
    new_user_id: str = ""
    name: str = ""
    departments: tuple[int, ...] = ()
    party_id: int | None = None
    parent_id: int | None = None
    tag_id: int | None = None

    @classmethod
    def _attributes(cls, f: dict[str, str]) -> dict[str, object]:
        return {"user_id": f.get("UserID", ""), "new_user_id": f.get("NewUserID", ""), "name": f.get("Name", ""),
                "departments": _int_list(f.get("Department", "")), "party_id": _int(f.get("Id")),
                "parent_id": _int(f.get("ParentId")), "tag_id": _int(f.get("TagId"))}


@dataclass(frozen=True, eq=False)
class ChainChange(WeComEvent):
    """change_chain: an upstream/downstream chain changed. Every change_type is kept, including names not
    documented yet, because the right reaction to any of them is to re-sync the chain."""

    chain_id: str = ""

    @classmethod
    def _attributes(cls, f: dict[str, str]) -> dict[str, object]:
        return {"chain_id": f.get("ChainId", "")}


@dataclass(frozen=True, eq=False)
class SuiteTicket(WeComEvent):
    """suite_ticket: pushed every 10 minutes, valid 30; needed to get a suite access token."""

    suite_ticket: str = field(default="", repr=False)

    @classmethod
    def _attributes(cls, f: dict[str, str]) -> dict[str, object]:
        return {"suite_ticket": f.get("SuiteTicket", "")}


@dataclass(frozen=True, eq=False)
class CreateAuth(WeComEvent):
    """create_auth: a corp authorised the suite; exchange ``auth_code`` (valid 10 min) for a permanent code."""

    auth_code: str = field(default="", repr=False)
    state: str = ""

    @classmethod
    def _attributes(cls, f: dict[str, str]) -> dict[str, object]:
        return {"auth_code": f.get("AuthCode", ""), "state": f.get("State", "")}


@dataclass(frozen=True, eq=False)
class ChangeAuth(WeComEvent):
    """change_auth: a corp changed what the suite may access."""

    auth_corp_id: str = ""

    @classmethod
    def _attributes(cls, f: dict[str, str]) -> dict[str, object]:
        return {"auth_corp_id": f.get("AuthCorpId", "")}


@dataclass(frozen=True, eq=False)
class CancelAuth(WeComEvent):
    """cancel_auth: a corp removed the suite."""

    auth_corp_id: str = ""

    @classmethod
    def _attributes(cls, f: dict[str, str]) -> dict[str, object]:
        return {"auth_corp_id": f.get("AuthCorpId", "")}


@dataclass(frozen=True, eq=False)
class ResetPermanentCode(WeComEvent):
    """reset_permanent_code: the corp's permanent code changed; exchange ``auth_code`` for the new one."""

    auth_code: str = field(default="", repr=False)

    @classmethod
    def _attributes(cls, f: dict[str, str]) -> dict[str, object]:
        return {"auth_code": f.get("AuthCode", "")}


@dataclass(frozen=True, eq=False)
class ShareChainChange(WeComEvent):
    """share_chain_change: the apps shared along an upstream/downstream chain changed."""


@dataclass(frozen=True, eq=False)
class UnknownEvent(WeComEvent):
    """Any kind or change type this module does not model: to be accepted, logged and ignored."""


@dataclass(frozen=True)
class FollowEvent(WeComEvent):
    """A WeChat official account's follower event (`subscribe`, `unsubscribe`, `SCAN`): `openid` is FromUserName
    (the follower under this account), `corp_id` the account's original id (gh_…). `scene` is the QR scene a follow
    or scan came through: a subscribe's EventKey `qrscene_<scene>`, a SCAN's EventKey as it is."""

    openid: str = ""
    scene: str = ""

    @property
    def follows(self) -> bool:
        """What the event says of the follow itself; the consumer still asks the account (user/info) on a follow."""
        return self.kind != "unsubscribe"

    @classmethod
    def _attributes(cls, f: dict[str, str]) -> dict[str, object]:
        key = f.get("EventKey", "")
        return {"openid": f.get("FromUserName", ""),
                "scene": key[len("qrscene_"):] if key.startswith("qrscene_") else key}


FOLLOW_KINDS = frozenset({"subscribe", "unsubscribe", "SCAN"})

_TYPES_BY_KIND: dict[str, type[WeComEvent]] = {
    "change_external_contact": ExternalContactChange,
    "change_contact": ContactChange,
    "change_chain": ChainChange,
    "suite_ticket": SuiteTicket,
    "create_auth": CreateAuth,
    "change_auth": ChangeAuth,
    "cancel_auth": CancelAuth,
    "reset_permanent_code": ResetPermanentCode,
    "share_chain_change": ShareChainChange,
}


def parse_event(xml: str | bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> WeComEvent:
    """Parses a decrypted callback document; raises :class:`~.xmlparse.XmlError` only if it is not XML."""
    return event_from_fields(parse_xml(xml, max_bytes))


def event_from_fields(fields: Mapping[str, str]) -> WeComEvent:
    """Builds the typed event from the flat document, e.g. the ``fields`` dict an SQS message carried."""
    flat = dict(fields)
    suite_form = "InfoType" in flat
    kind = flat.get("InfoType", "") if suite_form else (flat.get("Event") or flat.get("MsgType", ""))
    common = {
        "fields": flat,
        "kind": kind,
        "change_type": flat.get("ChangeType", ""),
        "corp_id": flat.get("AuthCorpId", "") if suite_form else flat.get("ToUserName", ""),
        "suite_id": flat.get("SuiteId", ""),
        "create_time": _int(flat.get("TimeStamp" if suite_form else "CreateTime")) or 0,
    }
    cls = _TYPES_BY_KIND.get(kind, UnknownEvent)
    if cls.known_change_types and common["change_type"] not in cls.known_change_types:
        cls = UnknownEvent
    return cls(**common, **cls._attributes(flat))


def official_account_event(fields: Mapping[str, str]) -> WeComEvent:
    """An official account's pushed document: its follower events typed, anything else (a user's message, a menu
    click) an :class:`UnknownEvent`. Kept apart from :func:`event_from_fields` because a WeCom app's own
    `subscribe` (a member following the app) means something else."""
    flat = dict(fields)
    kind = flat.get("Event") or flat.get("MsgType", "")
    common = {"fields": flat, "kind": kind, "change_type": "", "corp_id": flat.get("ToUserName", ""), "suite_id": "",
              "create_time": _int(flat.get("CreateTime")) or 0}
    if flat.get("MsgType") == "event" and kind in FOLLOW_KINDS:
        return FollowEvent(**common, **FollowEvent._attributes(flat))
    return UnknownEvent(**common)


def _int(text: str | None) -> int | None:
    """WeCom's numbers arrive as text; a missing or garbled one is absent rather than an error, because a
    callback must never be rejected for a field the consumer may not even need."""
    try:
        return int(text) if text else None
    except ValueError:
        return None


def _int_list(text: str) -> tuple[int, ...]:
    return tuple(value for value in map(_int, text.split(",")) if value is not None)
