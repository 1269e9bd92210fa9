"""Contact input validation: pure functions, checked value by value."""
from __future__ import annotations

import pytest

from chalicelib.directory import validation
from chalicelib.core.errors import BadRequest


@pytest.mark.parametrize("raw, clean", [
    ("13800138000", "13800138000"), ("138 0013-8000", "13800138000"), ("+447911123456", "+447911123456"),
    ("", None), (None, None), ("  ", None),
])
def test_valid_mobiles_are_normalised(raw, clean):
    assert validation.mobile(raw) == clean


@pytest.mark.parametrize("raw", ["12800138000", "1380013800", "138001380000", "+0123456789", "+12", "abc", 13800138000,
                                 "1" * 40])
def test_invalid_mobiles_are_refused(raw):
    with pytest.raises(BadRequest) as refused:
        validation.mobile(raw)
    assert refused.value.code == "invalid_mobile"


@pytest.mark.parametrize("raw, ok", [("A.B@Example.COM", True), ("a+tag@sub.example.cn", True), ("a@b", False),
                                     ("no-at.example.com", False), ("a@@b.com", False), ("a b@c.com", False)])
def test_emails(raw, ok):
    if ok:
        assert validation.email(raw) == raw.lower()
    else:
        with pytest.raises(BadRequest):
            validation.email(raw)


def test_contact_fields_validate_each_field_and_refuse_unknown_ones():
    clean = validation.contact_fields({"name": " 张 ", "securityLevel": -999, "remark": None}, creating=True)
    assert clean == {"name": "张", "securityLevel": -999, "remark": None}
    for body, code in (({"securityLevel": -1000}, "invalid_security_level"), ({"securityLevel": 0.5},
                       "invalid_security_level"), ({"remark": "x" * 501}, "invalid_remark"),
                       ({"name": "x", "owner": "me"}, "unknown_field"), ({"position": 3}, "invalid_position")):
        with pytest.raises(BadRequest) as refused:
            validation.contact_fields({"name": "x", **body}, creating=True)
        assert refused.value.code == code
    with pytest.raises(BadRequest) as nameless:
        validation.contact_fields({"mobile": "13800138000"}, creating=True)
    assert nameless.value.code == "invalid_name"
    assert validation.contact_fields({"mobile": "13800138000"}, creating=False) == {"mobile": "13800138000"}
    for blank in ("", "  ", None):  # an edit may leave the name out, never clear it
        with pytest.raises(BadRequest) as cleared:
            validation.contact_fields({"name": blank}, creating=False)
        assert cleared.value.code == "invalid_name"


def test_share_lists_and_member_lists():
    assert validation.share_list({"lisi": {"permission": "edit"}}) == {"lisi": {"permission": "edit"}}
    for bad in ({"lisi": {"permission": "own"}}, {"lisi": "edit"}, ["lisi"], {"a#b": {"permission": "view"}}):
        with pytest.raises(BadRequest):
            validation.share_list(bad)
    assert validation.user_ids(["a", "b", "a"], "visibleMembers") == ["a", "b"]
    with pytest.raises(BadRequest):
        validation.user_ids([str(i) for i in range(201)], "visibleMembers")
