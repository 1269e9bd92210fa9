"""WeChat's authorize page for an official account as a browser meets it: choose a known WeChat user or a new one,
and come back with a single-use code that sns/oauth2/access_token answers with that user's openid and unionid."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from tests.simulator.support import OA_APPID, OA_SECRET

BACK = "https://yq.example/mobile/wechat/external/home?tenantKey=tn1"
OAUTH = {"appid": OA_APPID, "redirect_uri": BACK, "response_type": "code", "scope": "snsapi_userinfo",
         "state": "bindabc123"}


def _page(sim, **params) -> requests.Response:
    return requests.get(f"{sim.base_url}/connect/oauth2/authorize?{urlencode({**OAUTH, **params})}", timeout=5)


def _choose(sim, openid: str) -> dict:
    page = _page(sim)
    assert page.status_code == 200 and "微信授权" in page.text
    link = re.search(rf'href="([^"]+)" data-openid="{openid}"', page.text).group(1).replace("&amp;", "&")
    answer = requests.get(f"{sim.base_url}{link}", allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    target = urlsplit(answer.headers["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == "https://yq.example/mobile/wechat/external/home"
    query = parse_qs(target.query)
    assert query["tenantKey"] == ["tn1"] and query["state"] == ["bindabc123"]
    return query


def _exchange(sim, code: str) -> dict:
    return requests.get(f"{sim.base_url}/sns/oauth2/access_token", timeout=5, params={
        "appid": OA_APPID, "secret": OA_SECRET, "code": code, "grant_type": "authorization_code"}).json()


def test_a_known_user_is_named_and_comes_back_with_a_single_use_code(sim):
    page = _page(sim)
    assert "陈先生" in page.text  # the corp customer with the follower's unionid
    code = _choose(sim, "oDemoOpenid0001")["code"][0]
    answer = _exchange(sim, code)
    assert (answer["openid"], answer["unionid"]) == ("oDemoOpenid0001", "oz4Dq5demoUnion000000000001")
    assert _exchange(sim, code)["errcode"] == 40163


def test_a_new_user_gets_a_fresh_identity_and_is_known_next_time(sim):
    first = _exchange(sim, _choose(sim, "new")["code"][0])
    assert first["openid"].startswith("o") and first["unionid"].startswith("oz4Dq5")
    again = _exchange(sim, _choose(sim, first["openid"])["code"][0])
    assert (again["openid"], again["unionid"]) == (first["openid"], first["unionid"])


def test_bad_parameters_get_an_error_page(sim):
    assert _page(sim, response_type="token").status_code == 400
    assert _page(sim, scope="snsapi_login").status_code == 400
    assert _page(sim, redirect_uri="/relative").status_code == 400
    unknown = requests.get(f"{sim.base_url}/connect/oauth2/wechat-confirm?{urlencode({**OAUTH, 'openid': 'oNope'})}",
                           allow_redirects=False, timeout=5)
    assert unknown.status_code == 400 and "没有这个微信用户" in unknown.text
