"""Invitations through the HTTP API: WeChat-friend links (create, QR code, preview, accept once; expired, reused,
forged, tampered and cross-tenant tokens) and adding a member of another organisation (search with both fields, no
partial matches, rate limit; invite, accept or decline once; both directories)."""
from __future__ import annotations

import base64
import json
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.integration.api_support import Api, body, post_json
from tests.integration.api_support import error_code as code

ROOT = Path(__file__).resolve().parents[2]
BASE_URL = "https://yq-team.example"  # the test teams' own public base URL (a tenant setting)


# --- helpers -----------------------------------------------------------------------------------------------------
def drain_notifications(pump) -> None:
    from chalicelib.core import config

    pump.drain(config.resource_name("notifications"))


def delivered_cards(simulator, user_id: str) -> list[dict]:
    """The text cards WeCom delivered to a member of the demo corp."""
    return [m["body"]["textcard"] for m in simulator.control.messages(touser=user_id)
            if m["msgtype"] == "textcard" and user_id in m["delivered"]]


def link_params(link: str) -> tuple[str, str]:
    query = parse_qs(urlsplit(link).query)
    return query["tenantKey"][0], query["token"][0]


def front_list(api: Api) -> list[dict]:
    reply = api.get("/api/directory/contacts?limit=100")
    assert reply.status_code == 200, reply.body
    return [contact for group in body(reply)["groups"] for contact in group["contacts"]]


def contacts_of(tenant_key: str, source: str) -> list:
    from chalicelib.store.contacts import Contact

    return [c for c in Contact.query(tenant_key) if c.source == source]


@pytest.fixture
def home(demo_tenant):
    """The inviting team: bound to the simulator's demo corp (reset by `demo_tenant`) under a name of its own, so
    other organisations can find it by exact name."""
    from chalicelib.tenants import onboarding

    return _demo_corp_tenant(f"云桥测试{onboarding.new_tenant_key()}")


@pytest.fixture
def as_member(client, sign_in, home):
    def member(user_id: str, tenant=None, roles=()) -> Api:
        return Api(client, sign_in(tenant or home, user_id, roles=roles))

    return member


@pytest.fixture
def organisation(as_member):
    """A dimension with an organisation and a department in the demo tenant, made by an admin."""
    admin = as_member("zhengshi", roles=("admin",))
    dimension = body(admin.post("/api/directory/nodes", {"kind": "dimension", "name": "合作伙伴"}))
    org = body(admin.post("/api/directory/nodes", {"kind": "organisation", "name": "星河物流",
                                                   "parentId": dimension["nodeId"]}))
    department = body(admin.post("/api/directory/nodes", {"kind": "department", "name": "采购部",
                                                          "parentId": org["nodeId"]}))
    assert org.get("nodeId") and department.get("nodeId"), (org, department)
    return {"organisationId": org["nodeId"], "departmentId": department["nodeId"], "orgName": "星河物流"}


def _demo_corp_tenant(name: str):
    """Another tenant bound to the simulator's demo corp (same members), under a name of its own."""
    from chalicelib.tenants import onboarding
    from dev.seed import _secret_of

    scenario = json.loads((ROOT / "dev" / "scenarios" / "demo.json").read_text(encoding="utf-8"))
    corp = scenario["corps"][0]
    return onboarding.create_self_built(
        name=name, corp_id=corp["corpid"], agent_id=str(_secret_of(corp, "app")["agentid"]), public_base_url=BASE_URL,
        wecom_secrets={"contacts_secret": _secret_of(corp, "contacts")["secret"],
                       "customer_secret": _secret_of(corp, "externalcontact")["secret"],
                       "app_secret": _secret_of(corp, "app")["secret"],
                       "callback_token": corp["callback"]["token"],
                       "callback_aes_key": corp["callback"]["encoding_aes_key"]},
    )


@pytest.fixture
def other_tenant(home):
    """The other organisation: its own team name, the demo corp's members."""
    from chalicelib.tenants import onboarding

    return _demo_corp_tenant(f"远山贸易{onboarding.new_tenant_key()}")


# --- WeChat-friend invitation links ------------------------------------------------------------------------------
def test_an_accepted_link_creates_exactly_one_contact_visible_to_the_inviter(client, as_member, home,
                                                                             organisation, simulator, pump):
    lisi = as_member("lisi")
    reply = lisi.post("/api/directory/invitations", {"organisationId": organisation["organisationId"],
                                                     "departmentId": organisation["departmentId"],
                                                     "note": "展会上认识的"})
    assert reply.status_code == 201, reply.body
    invitation = body(reply)
    assert invitation["status"] == "open" and invitation["inviterId"] == "lisi"
    assert invitation["link"].startswith(f"{BASE_URL}/mobile/wechat/external/invite?tenantKey=")
    tenant_key, token = link_params(invitation["link"])
    assert tenant_key == home.tenant_key
    assert invitation["qrCodeUrl"] == f"/api/directory/invitations/{invitation['invitationId']}/qrcode.png"

    preview = client.http.get(f"/api/invitations/preview?tenantKey={tenant_key}&token={token}")
    assert preview.status_code == 200, preview.body
    assert body(preview)["tenant"] == {"name": home.name}
    assert body(preview)["inviter"] == {"name": "李四"}
    assert set(body(preview)) == {"tenant", "inviter", "expiresAt", "wechatAuthorizeUrl"}
    assert body(preview)["wechatAuthorizeUrl"] is None  # no official account: accepted without WeChat's OAuth

    accepted = post_json(client, "/api/invitations/accept", {
      "tenantKey": tenant_key, "token": token, "name": "周小姐", "mobile": "139 0000 1234",
      "email": "Zhou@Example.com", "position": "采购经理"})
    assert accepted.status_code == 201, accepted.body
    assert body(accepted)["status"] == "accepted"

    created = contacts_of(home.tenant_key, "invitation")
    assert len(created) == 1
    contact = created[0]
    assert (contact.name, contact.mobile, contact.email, contact.adder_id) == ("周小姐", "13900001234",
                                                                               "zhou@example.com", "lisi")
    assert contact.remark == "展会上认识的"
    assert contact.organisation_id == organisation["organisationId"]
    assert contact.department_id == organisation["departmentId"]

    shown = body(lisi.get(f"/api/directory/contacts/{contact.contact_id}"))
    assert shown["source"] == "invitation" and shown["adderId"] == "lisi" and shown["orgName"] == "星河物流"
    assert contact.contact_id in [c["contactId"] for c in front_list(lisi)]
    assert as_member("wangwu").get(f"/api/directory/contacts/{contact.contact_id}").status_code == 404

    after = body(lisi.get(f"/api/directory/invitations/{invitation['invitationId']}"))
    assert after["status"] == "accepted" and after["contactId"] == contact.contact_id
    assert after["link"] is None and after["acceptedAt"]

    drain_notifications(pump)
    assert any("周小姐" in card["description"] for card in delivered_cards(simulator, "lisi"))


def _png_modules(png: bytes) -> list[list[bool]]:
    """Decode a greyscale/palette PNG (no external decoder) and read the QR modules back, one per 8x8 cell past the
    4-module quiet zone: True where the module is dark."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = {}, 8
    idat = b""
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        data = png[pos + 8:pos + 8 + length]
        assert zlib.crc32(kind + data) == struct.unpack(">I", png[pos + 8 + length:pos + 12 + length])[0]
        if kind == b"IDAT":
            idat += data
        else:
            chunks[kind] = data
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert colour in (0, 3) and interlace == 0
    raw = zlib.decompress(idat)
    stride = (width * depth + 7) // 8
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        bpp = max(1, depth // 8)
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, corner = previous[i], previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        rows.append(bytes(line))
        previous = line

    def sample(x: int, y: int) -> int:
        bit = x * depth
        value = (rows[y][bit // 8] >> (8 - depth - bit % 8)) & ((1 << depth) - 1)
        if colour == 3:
            r, g, b = chunks[b"PLTE"][value * 3:value * 3 + 3]
            return (r + g + b) // 3
        return value * 255 // ((1 << depth) - 1)

    scale, border = 8, 4
    size = width // scale - 2 * border
    return [[sample((border + col) * scale + scale // 2, (border + row) * scale + scale // 2) < 128
             for col in range(size)] for row in range(size)]


def test_the_qr_code_is_a_png_of_exactly_the_link(client, as_member):
    import segno

    from app import app

    lisi = as_member("lisi")
    invitation = body(lisi.post("/api/directory/invitations", {}))
    reply = lisi.get(invitation["qrCodeUrl"], Accept="image/png")
    assert reply.status_code == 200, reply.body
    assert reply.headers["Content-Type"] == "image/png"
    assert "image/png" in app.api.binary_types  # so Chalice hands API Gateway a base64 body it turns into bytes
    modules = _png_modules(reply.body)
    expected = [[bool(cell) for cell in row] for row in segno.make_qr(invitation["link"], error="m").matrix]
    assert modules == expected
    other = [[bool(cell) for cell in row] for row in segno.make_qr(invitation["link"] + "x", error="m").matrix]
    assert modules != other
    assert as_member("wangwu").get(invitation["qrCodeUrl"], Accept="image/png").status_code == 404


def test_a_used_link_is_409_and_makes_no_second_contact(client, as_member, home):
    tenant_key, token = link_params(body(as_member("lisi").post("/api/directory/invitations", {}))["link"])
    first = post_json(client, "/api/invitations/accept", {"tenantKey": tenant_key, "token": token, "name": "甲"})
    assert first.status_code == 201, first.body
    again = post_json(client, "/api/invitations/accept", {"tenantKey": tenant_key, "token": token, "name": "乙"})
    assert (again.status_code, code(again)) == (409, "invitation_used")
    preview = client.http.get(f"/api/invitations/preview?tenantKey={tenant_key}&token={token}")
    assert (preview.status_code, code(preview)) == (409, "invitation_used")
    assert [c.name for c in contacts_of(home.tenant_key, "invitation")] == ["甲"]


def test_concurrent_acceptances_make_one_contact(emulator, as_member, home):
    """Four acceptances of one link at once (the emulator applies each transaction atomically, as DynamoDB does)."""
    from chalicelib.core.errors import Conflict
    from chalicelib.invitations import wechat

    tenant_key, token = link_params(body(as_member("lisi").post("/api/directory/invitations", {}))["link"])

    def accept(name: str) -> str:
        try:
            wechat.accept({"tenantKey": tenant_key, "token": token, "name": name})
            return "accepted"
        except Conflict as err:
            return err.code

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(accept, ["甲", "乙", "丙", "丁"]))
    assert sorted(outcomes) == ["accepted", "invitation_used", "invitation_used", "invitation_used"]
    assert len(contacts_of(home.tenant_key, "invitation")) == 1


def test_an_expired_link_is_410(client, as_member, home):
    from chalicelib.invitations import tokens
    from chalicelib.store import invitations as store

    invitation = body(as_member("lisi").post("/api/directory/invitations", {"expiresInDays": 1}))
    past = datetime.now(timezone.utc) - timedelta(minutes=1)
    item = store.get(home.tenant_key, store.WECHAT, invitation["invitationId"])
    item.update(actions=[store.InvitationItem.expires_at.set(past)])
    expired = tokens.sign(tokens.WECHAT_LINK, {"t": home.tenant_key, "i": invitation["invitationId"]},
                          int(past.timestamp()))
    for token in (expired, link_params(invitation["link"])[1]):  # a genuine past expiry; the item's own expiry
        reply = post_json(client, "/api/invitations/accept",
                          {"tenantKey": home.tenant_key, "token": token, "name": "迟到"})
        assert (reply.status_code, code(reply)) == (410, "invitation_expired")
    assert body(as_member("lisi").get(f"/api/directory/invitations/{invitation['invitationId']}"))["status"] == \
        "expired"
    assert contacts_of(home.tenant_key, "invitation") == []


def _swap_claim(token: str, **changes) -> str:
    key_id, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    return f"{key_id}.{base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b'=').decode()}.{signature}"


def test_forged_and_tampered_tokens_are_404(client, as_member, home):
    from chalicelib.invitations import tokens

    lisi = as_member("lisi")
    mine = body(lisi.post("/api/directory/invitations", {}))
    other = body(lisi.post("/api/directory/invitations", {}))
    tenant_key, token = link_params(mine["link"])
    forged_key = tokens.encode(tokens.WECHAT_LINK, {"t": tenant_key, "i": mine["invitationId"]},
                               int(datetime.now(timezone.utc).timestamp()) + 3600, "k1", b"f" * 32)
    for bad in ("not-a-token", "k1.e30.AAAA", _swap_claim(token, i=other["invitationId"]),
                _swap_claim(token, e=4102444800), token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
                forged_key):
        reply = post_json(client, "/api/invitations/accept", {"tenantKey": tenant_key, "token": bad, "name": "假"})
        assert (reply.status_code, code(reply)) == (404, "invitation_invalid"), bad
        preview = client.http.get(f"/api/invitations/preview?tenantKey={tenant_key}&token={bad}")
        assert (preview.status_code, code(preview)) == (404, "invitation_invalid")
    missing = post_json(client, "/api/invitations/accept", {"tenantKey": tenant_key, "name": "假"})
    assert (missing.status_code, code(missing)) == (400, "invalid_invitation_request")
    assert contacts_of(home.tenant_key, "invitation") == []
    assert body(lisi.get(f"/api/directory/invitations/{mine['invitationId']}"))["status"] == "open"


def test_another_tenants_token_is_404_here(client, as_member, home, other_tenant):
    _, token = link_params(body(as_member("lisi").post("/api/directory/invitations", {}))["link"])
    reply = post_json(client, "/api/invitations/accept",
                      {"tenantKey": other_tenant.tenant_key, "token": token, "name": "跨界"})
    assert (reply.status_code, code(reply)) == (404, "invitation_invalid")
    preview = client.http.get(f"/api/invitations/preview?tenantKey={other_tenant.tenant_key}&token={token}")
    assert (preview.status_code, code(preview)) == (404, "invitation_invalid")
    assert contacts_of(other_tenant.tenant_key, "invitation") == []
    assert contacts_of(home.tenant_key, "invitation") == []


def test_bad_input_is_400_and_leaves_the_link_usable(client, as_member, home):
    tenant_key, token = link_params(body(as_member("lisi").post("/api/directory/invitations", {}))["link"])
    for payload, expected in (({"mobile": "12345"}, "invalid_mobile"), ({"name": ""}, "invalid_name"),
                              ({"email": "nope"}, "invalid_email"), ({"remark": "x"}, "unknown_field")):
        reply = post_json(client, "/api/invitations/accept",
                          {"tenantKey": tenant_key, "token": token, "name": "王女士", **payload})
        assert (reply.status_code, code(reply)) == (400, expected)
    assert contacts_of(home.tenant_key, "invitation") == []
    ok = post_json(client, "/api/invitations/accept", {"tenantKey": tenant_key, "token": token, "name": "王女士"})
    assert ok.status_code == 201, ok.body


def test_creating_checks_the_placement_and_the_session(client, as_member, organisation):
    lisi = as_member("lisi")
    reply = lisi.post("/api/directory/invitations", {"organisationId": "org-doesnotexist"})
    assert (reply.status_code, code(reply)) == (400, "organisation_not_found")
    for payload, expected in (({"expiresInDays": 0}, "invalid_expiry"), ({"expiresInDays": 31}, "invalid_expiry"),
                              ({"note": "x" * 201}, "invalid_note"), ({"name": "x"}, "unknown_field")):
        reply = lisi.post("/api/directory/invitations", payload)
        assert (reply.status_code, code(reply)) == (400, expected)
    anonymous = client.http.post("/api/directory/invitations", headers={"Content-Type": "application/json"}, body="{}")
    assert (anonymous.status_code, code(anonymous)) == (401, "invalid_session")
    department_only = lisi.post("/api/directory/invitations", {"departmentId": organisation["departmentId"]})
    assert body(department_only)["organisationId"] == organisation["organisationId"]


def test_revoked_links_stop_working_and_only_the_inviter_sees_or_revokes(client, as_member):
    lisi, wangwu = as_member("lisi"), as_member("wangwu")
    invitation = body(lisi.post("/api/directory/invitations", {}))
    path = f"/api/directory/invitations/{invitation['invitationId']}"
    assert wangwu.get(path).status_code == 404
    assert (wangwu.delete(path).status_code, code(wangwu.delete(path))) == (404, "invitation_not_found")
    def listed(api: Api) -> list[str]:
        return [i["invitationId"] for i in body(api.get("/api/directory/invitations"))["invitations"]]

    assert invitation["invitationId"] not in listed(wangwu)
    assert invitation["invitationId"] in listed(lisi)
    revoked = lisi.delete(path)
    assert revoked.status_code == 200 and body(revoked)["status"] == "revoked"
    tenant_key, token = link_params(invitation["link"])
    reply = post_json(client, "/api/invitations/accept", {"tenantKey": tenant_key, "token": token, "name": "晚了"})
    assert (reply.status_code, code(reply)) == (410, "invitation_revoked")
    assert lisi.get(f"{path}/qrcode.png", Accept="image/png").status_code == 410
    assert (lisi.delete(path).status_code, code(lisi.delete(path))) == (410, "invitation_revoked")


def test_the_list_pages_newest_first_with_a_checked_cursor(as_member):
    lisi = as_member("lisi")
    made = [body(lisi.post("/api/directory/invitations", {"note": str(n)}))["invitationId"] for n in range(3)]
    first = body(lisi.get("/api/directory/invitations?limit=2"))
    second = body(lisi.get(f"/api/directory/invitations?limit=2&cursor={first['nextCursor']}"))
    assert [i["invitationId"] for i in first["invitations"] + second["invitations"]] == made[::-1]
    stolen = as_member("wangwu").get(f"/api/directory/invitations?cursor={first['nextCursor']}")
    assert (stolen.status_code, code(stolen)) == (400, "invalid_cursor")


# --- the WeCom lookups the cross-organisation search uses (client and simulator) ----------------------------------
def test_wecom_finds_members_by_mobile_and_email(home):
    from chalicelib.wecom.errors import WeComApiError
    from chalicelib.tenants.wecom_clients import client_for_tenant

    wecom = client_for_tenant(home)
    assert wecom.userid_by_mobile("13800000001") == "zhangsan"
    assert wecom.userid_by_email("zhangsan@yunqiao.example", 2) == "zhangsan"
    for call, errcode in ((lambda: wecom.userid_by_mobile("13800009999"), 46004),
                          (lambda: wecom.userid_by_mobile("1"), 60103),
                          (lambda: wecom.userid_by_email("zhangsan@yunqiao.example", 1), 46004),
                          (lambda: wecom.userid_by_email("not-an-email", 2), 60105),
                          (lambda: wecom.userid_by_email("zhangsan@yunqiao.example", 3), 40058)):
        with pytest.raises(WeComApiError) as caught:
            call()
        assert caught.value.errcode == errcode


# --- add from another organisation -------------------------------------------------------------------------------
def search(api: Api, **terms):
    return api.post("/api/directory/org-members/search", terms)


def test_search_needs_the_exact_organisation_and_person_together(as_member, other_tenant):
    as_member("wangwu", tenant=other_tenant)  # signing in is how Yunqiao learns a member's name
    lisi = as_member("lisi")
    org = other_tenant.name
    for terms in ({"name": "王五"}, {"organisation": org}, {"organisation": org, "name": "王五", "mobile": "13800000001"},
                  {"organisation": "", "name": "王五"}):
        reply = search(lisi, **terms)
        assert (reply.status_code, code(reply)) == (400, "search_terms_required"), terms
    unknown_org = search(lisi, organisation=org[:-1], name="王五")
    unknown_person = search(lisi, organisation=org, name="王")
    assert (unknown_org.status_code, code(unknown_org)) == (404, "org_member_not_found")
    assert (unknown_person.status_code, body(unknown_person)) == (404, body(unknown_org))
    found = search(lisi, organisation=f"  {org.upper()} ", name=" 王五")
    assert found.status_code == 200, found.body
    [result] = body(found)["results"]
    assert set(result) == {"candidate", "name", "organisation"}
    assert (result["name"], result["organisation"]) == ("王五", org)


def test_search_by_mobile_and_email_asks_the_other_teams_wecom(as_member, other_tenant, simulator):
    lisi = as_member("lisi")
    by_mobile = search(lisi, organisation=other_tenant.name, mobile="13800000001")
    assert by_mobile.status_code == 200, by_mobile.body
    assert [r["name"] for r in body(by_mobile)["results"]] == ["张三"]
    by_email = search(lisi, organisation=other_tenant.name, email="ZhangSan@yunqiao.example")
    assert [r["name"] for r in body(by_email)["results"]] == ["张三"]
    assert simulator.control.calls(path="/cgi-bin/user/getuserid")
    nobody = search(lisi, organisation=other_tenant.name, mobile="13800009999")
    assert (nobody.status_code, code(nobody)) == (404, "org_member_not_found")
    bad = search(lisi, organisation=other_tenant.name, mobile="555")
    assert (bad.status_code, code(bad)) == (400, "invalid_mobile")


def test_search_is_rate_limited_per_caller(as_member, other_tenant, monkeypatch):
    from chalicelib.core import clock

    monkeypatch.setenv("YQ_ORG_SEARCH_PER_MINUTE", "3")
    minute = datetime(2031, 5, 6, 7, 8, 30, tzinfo=timezone.utc)  # one fixed minute for the whole test
    monkeypatch.setattr(clock, "now", minute.timestamp)
    lisi, wangwu = as_member("lisi"), as_member("wangwu")
    for _ in range(3):
        assert search(lisi, organisation=other_tenant.name, name="谁也不是").status_code == 404
    limited = search(lisi, organisation=other_tenant.name, name="谁也不是")
    assert (limited.status_code, code(limited)) == (429, "rate_limited")
    assert search(wangwu, organisation=other_tenant.name, name="谁也不是").status_code == 404
    invalid = search(lisi, name="王五")
    assert invalid.status_code == 400  # bad input is refused before it counts, and is not rate-limited


def _invite(lisi: Api, organisation: str, name: str, note: str | None = None):
    found = search(lisi, organisation=organisation, name=name)
    assert found.status_code == 200, found.body
    payload = {"candidate": body(found)["results"][0]["candidate"]}
    if note:
        payload["note"] = note
    return lisi.post("/api/directory/org-invitations", payload)


def test_accepted_invitations_put_each_member_in_the_others_directory(as_member, home, other_tenant,
                                                                     simulator, pump):
    wangwu = as_member("wangwu", tenant=other_tenant)
    lisi = as_member("lisi")
    sent = _invite(lisi, other_tenant.name, "王五", note="供应链合作")
    assert sent.status_code == 201, sent.body
    invitation = body(sent)
    assert invitation["status"] == "pending" and invitation["direction"] == "outgoing"
    assert invitation["invitee"] == {"name": "王五", "organisation": other_tenant.name}
    assert invitation["inviter"]["userId"] == "lisi"

    incoming = body(wangwu.get("/api/directory/org-invitations?direction=incoming"))["invitations"]
    assert [(i["invitationId"], i["inviter"]["name"], i["inviter"]["organisation"], i["note"]) for i in incoming] == \
        [(invitation["invitationId"], "李四", home.name, "供应链合作")]
    assert body(lisi.get("/api/directory/org-invitations?direction=incoming"))["invitations"] == []
    drain_notifications(pump)
    assert any("邀请你互加为外部联系人" in card["description"] for card in delivered_cards(simulator, "wangwu"))

    accepted = wangwu.post(f"/api/directory/org-invitations/{invitation['invitationId']}/accept")
    assert accepted.status_code == 200, accepted.body
    assert body(accepted)["status"] == "accepted" and body(accepted)["contactId"]

    [in_a] = contacts_of(home.tenant_key, "other_organisation")
    assert (in_a.name, in_a.adder_id, in_a.peer_tenant_key, in_a.peer_user_id) == \
        ("王五", "lisi", other_tenant.tenant_key, "wangwu")
    assert in_a.org_name == other_tenant.name and in_a.position == "解决方案架构师"
    [in_b] = contacts_of(other_tenant.tenant_key, "other_organisation")
    assert (in_b.name, in_b.adder_id, in_b.peer_tenant_key, in_b.peer_user_id) == \
        ("李四", "wangwu", home.tenant_key, "lisi")
    assert in_b.org_name == home.name and body(accepted)["contactId"] == in_b.contact_id
    assert in_a.contact_id in [c["contactId"] for c in front_list(lisi)]
    assert in_b.contact_id in [c["contactId"] for c in front_list(wangwu)]
    shown = body(lisi.get(f"/api/directory/contacts/{in_a.contact_id}"))
    assert shown["source"] == "other_organisation" and shown["peerTenantKey"] == other_tenant.tenant_key
    outgoing = body(lisi.get("/api/directory/org-invitations?direction=outgoing"))["invitations"]
    assert [(i["status"], i["contactId"]) for i in outgoing] == [("accepted", in_a.contact_id)]

    again = wangwu.post(f"/api/directory/org-invitations/{invitation['invitationId']}/accept")
    assert (again.status_code, code(again)) == (409, "invitation_decided")
    declined = wangwu.post(f"/api/directory/org-invitations/{invitation['invitationId']}/decline")
    assert (declined.status_code, code(declined)) == (409, "invitation_decided")
    connected = _invite(lisi, other_tenant.name, "王五")
    assert (connected.status_code, code(connected)) == (409, "already_connected")
    assert len(contacts_of(home.tenant_key, "other_organisation")) == 1


def test_only_the_invitee_decides_and_a_decline_is_final(as_member, home, other_tenant):
    wangwu = as_member("wangwu", tenant=other_tenant)
    zhaoliu = as_member("zhaoliu", tenant=other_tenant)
    lisi = as_member("lisi")
    invitation = body(_invite(lisi, other_tenant.name, "王五"))
    path = f"/api/directory/org-invitations/{invitation['invitationId']}"
    for api in (zhaoliu, lisi, as_member("wangwu")):  # another member there; the inviter; wangwu of the wrong team
        reply = api.post(f"{path}/accept")
        assert (reply.status_code, code(reply)) == (404, "invitation_not_found")
    declined = wangwu.post(f"{path}/decline")
    assert declined.status_code == 200 and body(declined)["status"] == "declined"
    late = wangwu.post(f"{path}/accept")
    assert (late.status_code, code(late)) == (409, "invitation_decided")
    assert contacts_of(home.tenant_key, "other_organisation") == []
    assert contacts_of(other_tenant.tenant_key, "other_organisation") == []
    assert body(lisi.get("/api/directory/org-invitations?direction=outgoing"))["invitations"][0]["status"] == \
        "declined"
    again = _invite(lisi, other_tenant.name, "王五")  # a declined invitation may be followed by a new one
    assert again.status_code == 201 and body(again)["status"] == "pending"


def test_one_pending_invitation_per_pair_in_either_direction(as_member, home, other_tenant):
    wangwu = as_member("wangwu", tenant=other_tenant)
    lisi = as_member("lisi")
    assert _invite(lisi, other_tenant.name, "王五").status_code == 201
    twice = _invite(lisi, other_tenant.name, "王五")
    assert (twice.status_code, code(twice)) == (409, "invitation_pending")
    back = _invite(wangwu, home.name, "李四")
    assert (back.status_code, code(back)) == (409, "invitation_pending")


def test_a_candidate_only_works_for_the_member_who_searched(as_member, other_tenant):
    as_member("wangwu", tenant=other_tenant)
    lisi, zhaoliu = as_member("lisi"), as_member("zhaoliu")
    candidate = body(search(lisi, organisation=other_tenant.name, name="王五"))["results"][0]["candidate"]
    for api, token in ((zhaoliu, candidate), (lisi, _swap_claim(candidate, pu="zhaoliu")), (lisi, "x.y.z")):
        reply = api.post("/api/directory/org-invitations", {"candidate": token})
        assert (reply.status_code, code(reply)) == (400, "invalid_candidate")
    listing = lisi.get("/api/directory/org-invitations?direction=sideways")
    assert (listing.status_code, code(listing)) == (400, "invalid_direction")


def test_a_link_whose_organisation_was_deleted_still_works(client, as_member, home):
    admin = as_member("zhengshi", roles=("admin",))
    dimension = body(admin.post("/api/directory/nodes", {"kind": "dimension", "name": "临时"}))
    org = body(admin.post("/api/directory/nodes", {"kind": "organisation", "name": "已解散",
                                                   "parentId": dimension["nodeId"]}))
    invitation = body(as_member("lisi").post("/api/directory/invitations", {"organisationId": org["nodeId"]}))
    assert admin.delete(f"/api/directory/nodes/{org['nodeId']}").status_code == 204
    tenant_key, token = link_params(invitation["link"])
    reply = post_json(client, "/api/invitations/accept", {"tenantKey": tenant_key, "token": token, "name": "孤"})
    assert reply.status_code == 201, reply.body
    [contact] = contacts_of(home.tenant_key, "invitation")
    assert (contact.name, contact.organisation_id, contact.adder_id) == ("孤", None, "lisi")


def test_a_renamed_organisation_is_found_by_its_new_name_only(as_member, other_tenant):
    from chalicelib.invitations import lookup
    from chalicelib.store import tenants as tenant_store

    as_member("wangwu", tenant=other_tenant)
    old_name = other_tenant.name
    tenant_store.set_corp_info(other_tenant, f"新{old_name}", None)  # what a suite's change_auth does
    lookup.index_tenant(other_tenant)
    lisi = as_member("lisi")
    assert search(lisi, organisation=f"新{old_name}", name="王五").status_code == 200
    stale = search(lisi, organisation=old_name, name="王五")
    assert (stale.status_code, code(stale)) == (404, "org_member_not_found")


def test_an_expired_invitation_cannot_be_answered_and_may_be_sent_again(as_member, home, other_tenant):
    from chalicelib.store import invitations as store

    wangwu = as_member("wangwu", tenant=other_tenant)
    lisi = as_member("lisi")
    invitation = body(_invite(lisi, other_tenant.name, "王五"))
    past = datetime.now(timezone.utc) - timedelta(seconds=1)
    for tenant_key, kind in ((home.tenant_key, store.OUTGOING), (other_tenant.tenant_key, store.INCOMING)):
        store.get(tenant_key, kind, invitation["invitationId"]).update(
            actions=[store.InvitationItem.expires_at.set(past)])
    path = f"/api/directory/org-invitations/{invitation['invitationId']}"
    for action in ("accept", "decline"):
        reply = wangwu.post(f"{path}/{action}")
        assert (reply.status_code, code(reply)) == (410, "invitation_expired")
    assert body(wangwu.get("/api/directory/org-invitations?direction=incoming"))["invitations"][0]["status"] == \
        "expired"
    again = _invite(lisi, other_tenant.name, "王五")
    assert again.status_code == 201 and body(again)["status"] == "pending"
    assert wangwu.post(f"{path}/accept").status_code == 200
