"""How typed organisation and person names are matched (exactly, after normalisation) in the cross-organisation search."""
from __future__ import annotations

import pytest

from chalicelib.invitations.lookup import name_hash, normalise, organisation_key


@pytest.mark.parametrize("typed", ["云桥演示科技", " 云桥 演示科技 ", "云桥演示科技有限公司", "云桥演示科技 有限公司",
                                   "云桥演示科技股份有限公司", "云桥演示科技（北京）有限公司", "云桥演示科技(北京)"])
def test_a_chinese_corp_is_found_by_its_short_name_full_name_and_spacing(typed):
    assert organisation_key(typed) == organisation_key("云桥演示科技")


@pytest.mark.parametrize("typed", ["ACME", "acme", "Acme Co., Ltd.", "ACME co.,ltd", "Acme Inc.", "Ａｃｍｅ Limited",
                                   " a c m e  LTD "])
def test_a_latin_corp_is_found_whatever_the_case_width_spacing_and_legal_form(typed):
    assert organisation_key(typed) == "acme"


def test_different_organisations_stay_apart():
    assert organisation_key("云桥") != organisation_key("云桥演示科技")
    assert organisation_key("云桥演示") != organisation_key("云桥演示科技")
    assert organisation_key("Acme Logistics Ltd") != organisation_key("Acme Ltd")


def test_a_name_that_is_only_a_legal_form_is_kept_whole():
    assert organisation_key("有限公司") == "有限公司"
    assert organisation_key("Ltd.") == "ltd."
    assert organisation_key("（北京）") == "(北京)"


def test_person_names_ignore_case_width_and_spacing_but_not_legal_forms():
    assert normalise(" 王 五 ") == normalise("王五")
    assert name_hash("Zhang San") == name_hash("zhangsan") == name_hash("ＺＨＡＮＧ　ＳＡＮ")
    assert name_hash("王五") != name_hash("王五五")
    assert normalise("Acme Ltd") != normalise("Acme")
