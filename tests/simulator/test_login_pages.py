"""WeCom's sign-in pages as a browser meets them: the QR login and the in-client OAuth authorize step, each ending in
a redirect that carries a code auth/getuserinfo accepts once."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from tests.simulator.support import AGENTID, APP_SECRET, CORPID

BACK = "https://yq.example/directory/contacts?tenantKey=tn1"
QR = {"login_type": "CorpApp", "appid": CORPID, "agentid": str(AGENTID), "redirect_uri": BACK, "state": "s-123",
      "lang": "zh"}
OAUTH = {"appid": CORPID, "redirect_uri": BACK, "response_type": "code", "scope": "snsapi_base", "state": "s-456",
         "agentid": str(AGENTID)}


def choose(sim, path: str, params: dict, userid: str) -> requests.Response:
    """Open the page, follow the member's link, and return the confirm step's answer (not followed)."""
    page = requests.get(f"{sim.base_url}{path}?{urlencode(params)}", timeout=5)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    link = re.search(rf'href="([^"]+)" data-userid="{userid}"', page.text).group(1).replace("&amp;", "&")
    return requests.get(f"{sim.base_url}{link}", allow_redirects=False, timeout=5)


@pytest.mark.parametrize("path, params", [("/wwlogin/sso/login", QR), ("/connect/oauth2/authorize", OAUTH)])
def test_choosing_a_member_redirects_with_a_single_use_code_and_the_state(sim, wecom, path, params):
    answer = choose(sim, path, params, "lisi")
    assert answer.status_code == 302
    target = urlsplit(answer.headers["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == "https://yq.example/directory/contacts"
    query = parse_qs(target.query)
    assert query["tenantKey"] == ["tn1"] and query["state"] == [params["state"]]
    token = wecom.token(APP_SECRET)
    assert wecom.get("auth/getuserinfo", access_token=token, code=query["code"][0])["userid"] == "lisi"
    assert wecom.get("auth/getuserinfo", access_token=token, code=query["code"][0])["errcode"] == 40029


def test_the_qr_page_lists_the_corps_members_by_name(sim):
    page = requests.get(f"{sim.base_url}/wwlogin/sso/login?{urlencode(QR)}", timeout=5).text
    assert "企业微信扫码登录" in page and "李四" in page and "张三" in page


@pytest.mark.parametrize("change", [{"login_type": "ServiceApp"}, {"appid": "wwnosuchcorp"}, {"agentid": "1"},
                                    {"redirect_uri": "javascript:alert(1)"}, {"redirect_uri": ""}])
def test_bad_parameters_get_an_error_page_and_no_redirect(sim, change):
    reply = requests.get(f"{sim.base_url}/wwlogin/sso/login?{urlencode({**QR, **change})}", allow_redirects=False,
                         timeout=5)
    assert reply.status_code == 400 and "参数错误" in reply.text and "Location" not in reply.headers


def test_confirming_as_a_stranger_is_refused(sim):
    reply = requests.get(f"{sim.base_url}/wwlogin/sso/confirm?{urlencode({**QR, 'userid': 'ghost'})}",
                         allow_redirects=False, timeout=5)
    assert reply.status_code == 400 and "Location" not in reply.headers
