"""The pure part of the 与我协作 write: merging our entry into a member's external profile, the link and its title."""
from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.profile_links.link import link_title, link_url, merged_profile
from chalicelib.store.tenants import Tenant, TenantSettings

URL = "https://yq.test/mobile/wechat/external/home?tenantKey=tnabc12345"
OURS = {"type": 1, "name": "与我协作", "web": {"url": URL, "title": "与我协作"}}
JOB = {"type": 0, "name": "工号", "text": {"value": "S001"}}
SITE = {"type": 1, "name": "官网", "web": {"url": "https://corp.example", "title": "官网"}}
APP = {"type": 2, "name": "小程序", "miniprogram": {"appid": "wx1", "pagepath": "/index", "title": "商城"}}


def merge(profile):
    return merged_profile(profile, URL, "与我协作")


@pytest.mark.parametrize("profile", [None, {}, {"external_attr": []}, {"external_attr": None}])
def test_a_member_without_attributes_gets_ours_alone(profile):
    assert merge(profile)["external_attr"] == [OURS]


def test_other_entries_and_fields_are_kept_exactly_and_ours_goes_last():
    profile = {"external_corp_name": "云桥演示", "wechat_channels": {"nickname": "云桥"},
               "external_attr": [JOB, SITE, APP]}
    assert merge(profile) == {"external_corp_name": "云桥演示", "wechat_channels": {"nickname": "云桥"},
                              "external_attr": [JOB, SITE, APP, OURS]}


@pytest.mark.parametrize("stale", [
    {"type": 1, "name": "与我协作", "web": {"url": "https://old.example/home?tenantKey=wrong", "title": "与我协作"}},
    {"type": 1, "name": "与我协作", "web": {"url": URL, "title": "旧标题"}},
    {"type": 0, "name": "与我协作", "text": {"value": URL}},
    {"type": 1, "name": "与我协作"},
])
def test_an_outdated_entry_of_ours_is_replaced_where_it_stands(stale):
    profile = {"external_corp_name": "云桥演示", "external_attr": [JOB, stale, SITE]}
    assert merge(profile) == {"external_corp_name": "云桥演示", "external_attr": [JOB, OURS, SITE]}


def test_a_current_link_means_nothing_to_write():
    assert merge({"external_corp_name": "云桥演示", "external_attr": [OURS, JOB]}) is None


def test_a_duplicate_entry_of_ours_is_dropped():
    stale = {"type": 1, "name": "与我协作", "web": {"url": "https://old.example", "title": "与我协作"}}
    assert merge({"external_attr": [OURS, JOB, stale]}) == {"external_attr": [OURS, JOB]}
    assert merge({"external_attr": [stale, JOB, OURS]}) == {"external_attr": [OURS, JOB]}


def test_the_profile_read_is_not_changed():
    profile = {"external_corp_name": "云桥演示", "external_attr": [JOB, SITE]}
    before = copy.deepcopy(profile)
    merge(profile)
    assert profile == before


entry = st.one_of(
    st.builds(lambda name, value: {"type": 0, "name": name, "text": {"value": value}},
              st.sampled_from(["工号", "官网", "与我协作", "电话"]), st.text(max_size=8)),
    st.builds(lambda name, url, title: {"type": 1, "name": name, "web": {"url": url, "title": title}},
              st.sampled_from(["官网", "与我协作"]), st.sampled_from([URL, "https://old.example"]),
              st.sampled_from(["与我协作", "旧"])),
)
profiles = st.fixed_dictionaries({"external_attr": st.lists(entry, max_size=6)},
                                 optional={"external_corp_name": st.text(max_size=10)})


@given(profiles)
def test_writing_twice_changes_nothing_the_second_time_and_others_stay_in_order(profile):
    written = merge(profile) or profile
    assert merge(written) is None
    assert [e for e in written["external_attr"] if e["name"] == "与我协作"] == [OURS]
    assert [e for e in written["external_attr"] if e["name"] != "与我协作"] == \
        [e for e in profile["external_attr"] if e["name"] != "与我协作"]
    assert written.get("external_corp_name") == profile.get("external_corp_name")


def tenant(**settings) -> Tenant:
    return Tenant("tnabc12345", name="t", mode="suite", corp_id="ww1", secret_id="s",
                  settings=TenantSettings(**settings))


def test_the_url_uses_the_tenants_base_url_or_the_deployments():
    assert link_url(tenant()) == URL  # YQ_PUBLIC_BASE_URL is https://yq.test in the tests
    assert link_url(tenant(public_base_url="https://corp.yunqiao-demo.cn/")) == \
        "https://corp.yunqiao-demo.cn/mobile/wechat/external/home?tenantKey=tnabc12345"


@pytest.mark.parametrize("configured, written", [
    ("与我协作", "与我协作"),
    ("  协作主页 ", "协作主页"),
    ("", "与我协作"),
    ("一二三四五六七八九十十一十二", "一二三四五六七八九十十一"),
])
def test_the_title_is_the_configured_one_within_wecoms_twelve_characters(configured, written):
    assert link_title(tenant(profile_link_title=configured)) == written


def test_a_placeholder_base_url_is_refused_whoever_set_it(monkeypatch):
    from chalicelib.profile_links.link import PlaceholderBaseUrl

    with pytest.raises(PlaceholderBaseUrl):
        link_url(tenant(public_base_url="https://yunqiao.example.com"))
    monkeypatch.setenv("YQ_PUBLIC_BASE_URL", "https://dev.yunqiao.example.com")
    with pytest.raises(PlaceholderBaseUrl) as refused:
        link_url(tenant())
    assert refused.value.status == 409 and refused.value.code == "public_base_url_placeholder"
