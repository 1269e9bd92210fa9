"""External accounts as members manage them: direct assignment (activation link or initial password), activation
links (single use, expiring, replaced), disable / enable, the apps open to external users, and who may do what."""
from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib import accounts
from chalicelib.core import clock
from chalicelib.directory import audit, contact_writes
from chalicelib.directory.contacts import create_contact
from chalicelib.store import contacts as contact_store
from chalicelib.store import roles
from chalicelib.store.base import transact
from tests.integration.api_support import bearer_of, body as _json, error_code

STRONG = "Harbour-Lights-42"


@pytest.fixture
def moved_clock(monkeypatch):
    """The clock (`core.clock`), moved by hand instead of sleeping; each reading moves it on by 10 µs, so stamps
    written one after the other still sort in the order they were written."""
    state = {"now": clock.now()}

    def now() -> float:
        state["now"] += 0.00001
        return state["now"]

    monkeypatch.setattr(clock, "now", now)

    def advance(seconds: float) -> None:
        state["now"] += seconds

    return advance


@pytest.fixture
def contact(demo_tenant):
    """A manually added contact, added (and so visible) by zhangsan, an ordinary member."""
    return create_contact(demo_tenant, {"name": "王采购", "mobile": "13800138000", "email": "wang@example.com",
                                        "position": "采购经理"}, source="manual", adder_id="zhangsan",
                          actor="zhangsan")


def _put_account(client, headers, contact_id: str, body: dict):
    return client.http.put(f"/api/directory/contacts/{contact_id}/account", headers=headers, body=json.dumps(body))


def _token(activation_url: str) -> str:
    return urlsplit(activation_url).fragment.removeprefix("activate=")


def _activate(client, tenant_key: str, token: str, password: str = STRONG):
    return client.http.post("/api/external/activation", headers={"Content-Type": "application/json"},
                            body=json.dumps({"tenantKey": tenant_key, "token": token, "password": password}))


def _sign_in(client, tenant_key: str, account: str, password: str):
    return client.http.post("/api/external/session/password", headers={"Content-Type": "application/json"},
                            body=json.dumps({"tenantKey": tenant_key, "account": account, "password": password}))


def test_an_admin_assigns_an_account_with_an_activation_link(client, sign_in, demo_tenant, contact):
    admin = sign_in(demo_tenant, "lisi", roles=("admin",))
    reply = _put_account(client, admin, contact.contact_id, {"delivery": "activation"})
    assert reply.status_code == 201, reply.body
    result = _json(reply)
    assert re.fullmatch(r"yq[a-z2-7]{10}", result["accountName"])
    url = urlsplit(result["activationUrl"])
    assert (url.scheme, url.netloc, url.path) == ("https", "yq.test", "/mobile/wechat/external/home")
    assert parse_qs(url.query) == {"tenantKey": [demo_tenant.tenant_key]}
    assert re.fullmatch(r"activate=[A-Za-z0-9_-]{43}", url.fragment)
    assert result["activationExpiresAt"] == pytest.approx(clock.now() + 72 * 3600, abs=60)

    stored = contact_store.get(demo_tenant.tenant_key, contact.contact_id)
    assert (stored.account_status, stored.account_name) == ("opened", result["accountName"])
    trail = audit.history(demo_tenant.tenant_key, contact.contact_id)["entries"]
    assert trail[0]["action"] == "account_assigned" and trail[0]["actor"] == "lisi"
    assert trail[0]["after"]["accountName"] == result["accountName"] and STRONG not in json.dumps(trail)

    shown = client.http.get(f"/api/directory/contacts/{contact.contact_id}/account", headers=admin)
    assert _json(shown) | {"createdAt": None} == {
        "accountName": result["accountName"], "status": "awaiting_activation", "mustChangePassword": False,
        "passwordSet": False, "createdBy": "lisi", "createdAt": None, "activatedAt": None,
        "passwordChangedAt": None, "disabledAt": None}

    again = _put_account(client, admin, contact.contact_id, {})
    assert again.status_code == 409 and error_code(again) == "account_exists"


def test_the_activation_link_sets_the_password_once_and_signs_the_contact_in(client, sign_in, demo_tenant, contact):
    admin = sign_in(demo_tenant, "lisi", roles=("directory_maintainer",))
    result = _json(_put_account(client, admin, contact.contact_id, {}))
    token = _token(result["activationUrl"])

    weak = _activate(client, demo_tenant.tenant_key, token, "short")
    assert weak.status_code == 400 and error_code(weak) == "weak_password"
    named = _activate(client, demo_tenant.tenant_key, token, f"X-{result['accountName']}-9")
    assert named.status_code == 400 and error_code(named) == "weak_password"

    from chalicelib.auth import sessions

    oauth = sessions.issue(demo_tenant.tenant_key, sessions.CONTACT, contact.contact_id, "wechat_oauth")
    activated = _activate(client, demo_tenant.tenant_key, token)
    assert activated.status_code == 201, activated.body
    assert sessions.resolve(oauth.token) is not None  # a first activation signs nobody out
    session = _json(activated)
    assert session["mustChangePassword"] is False
    assert session["contact"] == {"contactId": contact.contact_id, "name": "王采购", "mobile": "13800138000",
                                  "email": "wang@example.com", "position": "采购经理", "orgName": None}
    assert client.http.get("/api/external/me", headers=bearer_of(activated)).status_code == 200

    reused = _activate(client, demo_tenant.tenant_key, token, "Another-Harbour-43")
    assert reused.status_code == 409 and error_code(reused) == "activation_used"
    assert _sign_in(client, demo_tenant.tenant_key, result["accountName"], STRONG).status_code == 201
    assert _sign_in(client, demo_tenant.tenant_key, result["accountName"], "Another-Harbour-43").status_code == 401

    forged = _activate(client, demo_tenant.tenant_key, "A" * 43)
    assert forged.status_code == 404 and error_code(forged) == "activation_invalid"
    elsewhere = _activate(client, "tnnope00000", token)
    assert elsewhere.status_code == 404 and error_code(elsewhere) == "tenant_not_found"
    trail = [entry["action"] for entry in audit.history(demo_tenant.tenant_key, contact.contact_id)["entries"]]
    assert trail[:2] == ["account_activated", "account_assigned"]


def test_an_activation_link_expires_and_a_new_one_replaces_the_old(client, sign_in, demo_tenant, contact,
                                                                 moved_clock):
    admin = sign_in(demo_tenant, "lisi", roles=("admin",))
    first = _token(_json(_put_account(client, admin, contact.contact_id, {}))["activationUrl"])
    moved_clock(72 * 3600 + 1)
    expired = _activate(client, demo_tenant.tenant_key, first)
    assert expired.status_code == 410 and error_code(expired) == "activation_expired"
    admin = sign_in(demo_tenant, "lisi", roles=("admin",))  # the admin's session ended meanwhile too

    reissued = client.http.post(f"/api/directory/contacts/{contact.contact_id}/account/activation", headers=admin)
    assert reissued.status_code == 201
    second = _token(_json(reissued)["activationUrl"])
    assert second != first
    third = _token(_json(client.http.post(f"/api/directory/contacts/{contact.contact_id}/account/activation",
                                          headers=admin))["activationUrl"])
    replaced = _activate(client, demo_tenant.tenant_key, second)
    assert replaced.status_code == 410 and "newer" in _json(replaced)["error"]["message"]
    assert _activate(client, demo_tenant.tenant_key, third).status_code == 201
    moved_clock(72 * 3600)
    assert _activate(client, demo_tenant.tenant_key, third).status_code == 409


def test_a_reset_link_on_an_active_account_ends_its_sessions(client, sign_in, demo_tenant, contact):
    admin = sign_in(demo_tenant, "lisi", roles=("admin",))
    name = _json(_put_account(client, admin, contact.contact_id, {"delivery": "password",
                                                                   "password": "Initial-Pass-01"}))["accountName"]
    before = _sign_in(client, demo_tenant.tenant_key, name, "Initial-Pass-01")
    reset = _json(client.http.post(f"/api/directory/contacts/{contact.contact_id}/account/activation",
                                   headers=admin))
    assert _activate(client, demo_tenant.tenant_key, _token(reset["activationUrl"])).status_code == 201
    assert client.http.get("/api/external/me", headers=bearer_of(before)).status_code == 401
    assert _sign_in(client, demo_tenant.tenant_key, name, "Initial-Pass-01").status_code == 401
    after = _sign_in(client, demo_tenant.tenant_key, name, STRONG)
    assert after.status_code == 201 and _json(after)["mustChangePassword"] is False


def test_an_initial_password_must_be_changed_before_anything_else(client, sign_in, demo_tenant, contact):
    admin = sign_in(demo_tenant, "lisi", roles=("admin",))
    reply = _put_account(client, admin, contact.contact_id,
                         {"accountName": " Wang.Cai ", "delivery": "password", "password": "Initial-Pass-01"})
    assert reply.status_code == 201
    assert _json(reply) == {"accountName": "wang.cai", "activationUrl": None, "activationExpiresAt": None}

    first = _sign_in(client, demo_tenant.tenant_key, "WANG.CAI", "Initial-Pass-01")
    assert first.status_code == 201 and _json(first)["mustChangePassword"] is True
    headers = bearer_of(first)
    me = client.http.get("/api/external/me", headers=headers)
    assert me.status_code == 200 and _json(me)["mustChangePassword"] is True
    refused = client.http.patch("/api/external/me", headers=headers, body=json.dumps({"position": "总监"}))
    assert refused.status_code == 403 and error_code(refused) == "password_change_required"

    changed = client.http.post("/api/external/me/password", headers=headers,
                               body=json.dumps({"currentPassword": "Initial-Pass-01", "newPassword": STRONG}))
    assert changed.status_code == 200 and _json(changed)["mustChangePassword"] is False
    patched = client.http.patch("/api/external/me", headers=headers, body=json.dumps({"position": "总监"}))
    assert patched.status_code == 200 and _json(patched)["contact"]["position"] == "总监"
    assert _json(client.http.get("/api/external/me", headers=headers))["mustChangePassword"] is False
    assert _sign_in(client, demo_tenant.tenant_key, "wang.cai", "Initial-Pass-01").status_code == 401
    again = _sign_in(client, demo_tenant.tenant_key, "wang.cai", STRONG)
    assert again.status_code == 201 and _json(again)["mustChangePassword"] is False


def test_a_forced_change_binds_every_external_route_through_current_contact(demo_tenant, contact):
    from chalicelib.auth import sessions
    from chalicelib.core.errors import Forbidden

    accounts.open_account(demo_tenant, contact.contact_id, actor="lisi", initial_password="Initial-Pass-01")
    issued = sessions.issue(demo_tenant.tenant_key, sessions.CONTACT, contact.contact_id, "password")
    session = sessions.resolve(issued.token)
    with pytest.raises(Forbidden) as refused:
        accounts.contact_caller(session)
    assert refused.value.code == "password_change_required"
    caller = accounts.contact_caller(session, password_change_allowed=True)
    assert (caller.contact_id, caller.must_change_password) == (contact.contact_id, True)
    oauth = sessions.resolve(sessions.issue(demo_tenant.tenant_key, sessions.CONTACT, contact.contact_id,
                                            "wechat_oauth").token)
    assert accounts.contact_caller(oauth).must_change_password is False


@pytest.mark.parametrize("body, status, code", [
    ({"accountName": "ab"}, 400, "invalid_account_name"),
    ({"accountName": "has space"}, 400, "invalid_account_name"),
    ({"accountName": "名字很长"}, 400, "invalid_account_name"),
    ({"delivery": "sms"}, 400, "invalid_delivery"),
    ({"delivery": "password"}, 400, "weak_password"),
    ({"delivery": "password", "password": "password"}, 400, "weak_password"),
    ({"delivery": "password", "password": "My-wang.cai-01", "accountName": "wang.cai"}, 400, "weak_password"),
    ({"delivery": "activation", "password": STRONG}, 400, "invalid_delivery"),
])
def test_bad_assignments_are_refused_before_anything_is_written(client, sign_in, demo_tenant, contact, body,
                                                                status, code):
    admin = sign_in(demo_tenant, "lisi", roles=("admin",))
    reply = _put_account(client, admin, contact.contact_id, body)
    assert reply.status_code == status and error_code(reply) == code
    stored = contact_store.get(demo_tenant.tenant_key, contact.contact_id)
    assert stored.account_status == "none" and stored.account_name is None
    assert client.http.get(f"/api/directory/contacts/{contact.contact_id}/account", headers=admin).status_code == 404


def test_account_names_are_unique_in_a_tenant_but_not_across_tenants(client, sign_in, demo_tenant, contact,
                                                                    make_tenant):
    admin = sign_in(demo_tenant, "lisi", roles=("admin",))
    other = create_contact(demo_tenant, {"name": "赵经理"}, source="manual", adder_id="lisi", actor="lisi")
    assert _put_account(client, admin, contact.contact_id, {"accountName": "acme.buyer"}).status_code == 201
    taken = _put_account(client, admin, other.contact_id, {"accountName": "ACME.buyer"})
    assert taken.status_code == 409 and error_code(taken) == "account_name_taken"
    assert contact_store.get(demo_tenant.tenant_key, other.contact_id).account_status == "none"

    elsewhere = make_tenant()
    stranger = create_contact(elsewhere, {"name": "外部"}, source="manual", adder_id=None, actor="ops")
    assert accounts.open_account(elsewhere, stranger.contact_id, actor="ops",
                                 account_name="acme.buyer")["accountName"] == "acme.buyer"


def test_the_approval_workflow_opens_a_pending_contact_and_nothing_else(demo_tenant, contact):
    from chalicelib.core.errors import Conflict, NotFound

    assert contact_writes.move_account_status(demo_tenant.tenant_key, contact.contact_id, "pending", ("none",),
                                              transact)
    opened = accounts.open_account(demo_tenant, contact.contact_id, actor="wangwu")
    assert opened["activationUrl"] and contact_store.get(demo_tenant.tenant_key,
                                                         contact.contact_id).account_status == "opened"
    with pytest.raises(Conflict) as twice:
        accounts.open_account(demo_tenant, contact.contact_id, actor="wangwu")
    assert twice.value.code == "account_exists"
    with pytest.raises(NotFound):
        accounts.open_account(demo_tenant, "ct-missing", actor="wangwu")


def test_concurrent_openings_of_one_contact_leave_exactly_one_account(emulator, demo_tenant, contact):
    """Six openings at once (the emulator isolates each transaction, as DynamoDB does)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from chalicelib.core.errors import Conflict

    barrier = threading.Barrier(6)

    def attempt(index: int) -> str:
        barrier.wait()
        try:
            return accounts.open_account(demo_tenant, contact.contact_id, actor=f"m{index}")["accountName"]
        except Conflict as err:
            return err.code

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(attempt, range(6)))
    names = [outcome for outcome in outcomes if outcome.startswith("yq")]
    assert len(names) == 1 and sorted(set(outcomes) - set(names)) == ["account_exists"]
    assert contact_store.get(demo_tenant.tenant_key, contact.contact_id).account_name == names[0]
    from chalicelib.store import accounts as account_store

    assert account_store.account_of(demo_tenant.tenant_key, contact.contact_id).account_name == names[0]


def test_who_may_manage_accounts(client, sign_in, demo_tenant, contact):
    adder = sign_in(demo_tenant, "zhangsan")
    stranger = sign_in(demo_tenant, "wangwu")
    path = f"/api/directory/contacts/{contact.contact_id}/account"
    hidden = _put_account(client, stranger, contact.contact_id, {})
    assert hidden.status_code == 404 and error_code(hidden) == "contact_not_found"
    missing = _put_account(client, stranger, "ct-0000000000000000", {})
    assert missing.status_code == 404 and error_code(missing) == "contact_not_found"
    refused = _put_account(client, adder, contact.contact_id, {})
    assert refused.status_code == 403 and error_code(refused) == "account_admin_required"
    for action in ("disable", "enable", "activation"):
        assert client.http.post(f"{path}/{action}", headers=adder).status_code == 403
        assert client.http.post(f"{path}/{action}", headers=stranger).status_code == 404
    assert client.http.get(path, headers=stranger).status_code == 404
    assert client.http.get(path, headers=adder).status_code == 404  # may look: there is no account yet

    maintainer = sign_in(demo_tenant, "zhaoliu", roles=(roles.DIRECTORY_MAINTAINER,))
    assert _put_account(client, maintainer, contact.contact_id, {}).status_code == 201
    assert client.http.get(path, headers=adder).status_code == 200
    assert client.http.put(path, headers={"Content-Type": "application/json"}, body="{}").status_code == 401


def test_disabling_ends_sessions_and_blocks_sign_in_and_enabling_restores_it(client, sign_in, demo_tenant, contact):
    admin = sign_in(demo_tenant, "lisi", roles=("admin",))
    name = _json(_put_account(client, admin, contact.contact_id, {"delivery": "password",
                                                                   "password": "Initial-Pass-01"}))["accountName"]
    sessions = [bearer_of(_sign_in(client, demo_tenant.tenant_key, name, "Initial-Pass-01")) for _ in range(2)]

    disabled = client.http.post(f"/api/directory/contacts/{contact.contact_id}/account/disable", headers=admin)
    assert disabled.status_code == 200
    assert _json(disabled) == {"accountName": name, "status": "disabled", "sessionsEnded": 2}
    for headers in sessions:
        assert client.http.get("/api/external/me", headers=headers).status_code == 401
    assert contact_store.get(demo_tenant.tenant_key, contact.contact_id).account_status == "disabled"
    right = _sign_in(client, demo_tenant.tenant_key, name, "Initial-Pass-01")
    assert right.status_code == 403 and error_code(right) == "account_disabled"
    wrong = _sign_in(client, demo_tenant.tenant_key, name, "Wrong-Pass-0001")
    assert wrong.status_code == 401 and error_code(wrong) == "invalid_credentials"
    reset = client.http.post(f"/api/directory/contacts/{contact.contact_id}/account/activation", headers=admin)
    assert reset.status_code == 409 and error_code(reset) == "account_disabled"
    assert client.http.post(f"/api/directory/contacts/{contact.contact_id}/account/disable",
                            headers=admin).status_code == 200

    enabled = client.http.post(f"/api/directory/contacts/{contact.contact_id}/account/enable", headers=admin)
    assert enabled.status_code == 200 and _json(enabled)["status"] == "active"
    assert contact_store.get(demo_tenant.tenant_key, contact.contact_id).account_status == "opened"
    back = _sign_in(client, demo_tenant.tenant_key, name, "Initial-Pass-01")
    assert back.status_code == 201 and _json(back)["mustChangePassword"] is True
    actions = [entry["action"] for entry in audit.history(demo_tenant.tenant_key, contact.contact_id)["entries"]]
    assert actions[:3] == ["account_enabled", "account_disabled", "account_assigned"]  # the second disable: no change


def test_a_disabled_account_awaiting_activation_cannot_be_activated_and_its_old_link_stays_dead(
        client, sign_in, demo_tenant, contact):
    admin = sign_in(demo_tenant, "lisi", roles=("admin",))
    token = _token(_json(_put_account(client, admin, contact.contact_id, {}))["activationUrl"])
    client.http.post(f"/api/directory/contacts/{contact.contact_id}/account/disable", headers=admin)
    refused = _activate(client, demo_tenant.tenant_key, token)
    assert refused.status_code == 403 and error_code(refused) == "account_disabled"
    enabled = client.http.post(f"/api/directory/contacts/{contact.contact_id}/account/enable", headers=admin)
    assert _json(enabled)["status"] == "awaiting_activation"
    void = _activate(client, demo_tenant.tenant_key, token)  # disabling voided the link: enabling does not revive it
    assert (void.status_code, error_code(void)) == (410, "activation_expired")
    fresh = client.http.post(f"/api/directory/contacts/{contact.contact_id}/account/activation", headers=admin)
    assert _activate(client, demo_tenant.tenant_key, _token(_json(fresh)["activationUrl"])).status_code == 201


def test_no_account_to_disable_or_enable_is_a_404(client, sign_in, demo_tenant, contact):
    admin = sign_in(demo_tenant, "lisi", roles=("admin",))
    for action in ("disable", "enable", "activation"):
        reply = client.http.post(f"/api/directory/contacts/{contact.contact_id}/account/{action}", headers=admin)
        assert reply.status_code == 404 and error_code(reply) == "account_not_found"


def test_admins_choose_the_apps_open_to_external_users(client, sign_in, demo_tenant, make_tenant):
    admin = sign_in(demo_tenant, "lisi", roles=("admin",))
    catalogue = _json(client.http.get("/api/directory/external-apps", headers=admin))["apps"]
    assert [app["key"] for app in catalogue][:7] == ["todos", "tasks", "projects", "schedules", "workflows", "forms",
                                                    "documents"]
    assert len(catalogue) == 17 and all(app["open"] for app in catalogue)
    assert {app["key"]: app["label"] for app in catalogue}["crm_opportunities"] == "商机"

    chosen = client.http.put("/api/directory/external-apps", headers=admin,
                             body=json.dumps({"apps": ["crm_orders", "todos", "documents"]}))
    assert chosen.status_code == 200
    assert [app["key"] for app in _json(chosen)["apps"] if app["open"]] == ["todos", "documents", "crm_orders"]
    unknown = client.http.put("/api/directory/external-apps", headers=admin,
                              body=json.dumps({"apps": ["todos", "payroll"]}))
    assert unknown.status_code == 400 and error_code(unknown) == "unknown_app"
    assert client.http.put("/api/directory/external-apps", headers=admin,
                           body=json.dumps({"apps": "todos"})).status_code == 400
    none = client.http.put("/api/directory/external-apps", headers=admin, body=json.dumps({"apps": []}))
    assert not any(app["open"] for app in _json(none)["apps"])

    maintainer = sign_in(demo_tenant, "zhaoliu", roles=(roles.DIRECTORY_MAINTAINER,))
    for reply in (client.http.get("/api/directory/external-apps", headers=maintainer),
                  client.http.put("/api/directory/external-apps", headers=maintainer,
                                  body=json.dumps({"apps": ["todos"]}))):
        assert reply.status_code == 403 and error_code(reply) == "admin_required"
    from chalicelib.accounts import apps

    assert len(apps.open_apps(make_tenant().tenant_key)) == 17


def test_enabling_an_enabled_account_or_disabling_a_disabled_one_records_nothing(client, sign_in, demo_tenant,
                                                                               contact):
    admin = sign_in(demo_tenant, "lisi", roles=("admin",))
    _put_account(client, admin, contact.contact_id, {"delivery": "password", "password": "Initial-Pass-01"})
    path = f"/api/directory/contacts/{contact.contact_id}/account"
    for action in ("enable", "enable", "disable", "disable", "enable", "enable"):
        assert client.http.post(f"{path}/{action}", headers=admin).status_code == 200
    actions = [entry["action"] for entry in audit.history(demo_tenant.tenant_key, contact.contact_id)["entries"]]
    assert actions == ["account_enabled", "account_disabled", "account_assigned", "create"]


def test_an_admin_reset_voids_the_password_at_once_ends_sessions_and_issues_a_new_link(client, sign_in, demo_tenant,
                                                                                        contact):
    admin = sign_in(demo_tenant, "lisi", roles=(roles.ADMIN,))
    maintainer = sign_in(demo_tenant, "wangwu", roles=(roles.DIRECTORY_MAINTAINER,))
    opened = _json(_put_account(client, admin, contact.contact_id, {"delivery": "activation"}))
    assert _activate(client, demo_tenant.tenant_key, _token(opened["activationUrl"])).status_code == 201
    signed_in = _sign_in(client, demo_tenant.tenant_key, opened["accountName"], STRONG)
    assert signed_in.status_code == 201
    path = f"/api/directory/contacts/{contact.contact_id}/account/reset"

    refused = client.http.post(path, headers=maintainer)  # 外部互联维护 may reissue a link, not lock a contact out
    assert refused.status_code == 403 and error_code(refused) == "admin_required"
    assert _sign_in(client, demo_tenant.tenant_key, opened["accountName"], STRONG).status_code == 201

    reset = client.http.post(path, headers=admin)
    assert reset.status_code == 201, reset.body
    result = _json(reset)
    assert result["accountName"] == opened["accountName"] and result["sessionsEnded"] >= 2
    assert client.http.get("/api/external/me", headers=bearer_of(signed_in)).status_code == 401
    voided = _sign_in(client, demo_tenant.tenant_key, opened["accountName"], STRONG)
    assert voided.status_code == 401 and error_code(voided) == "invalid_credentials"
    account = _json(client.http.get(f"/api/directory/contacts/{contact.contact_id}/account", headers=admin))
    assert account["status"] == "awaiting_activation" and account["passwordSet"] is False
    [entry] = [e for e in audit.history(demo_tenant.tenant_key, contact.contact_id)["entries"]
               if e["action"] == "account_reset"]
    assert entry["actor"] == "lisi" and opened["accountName"] not in json.dumps(entry["after"])

    again = "An0ther-Strong-Pass!"
    assert _activate(client, demo_tenant.tenant_key, _token(result["activationUrl"]), again).status_code == 201
    assert _sign_in(client, demo_tenant.tenant_key, opened["accountName"], again).status_code == 201

    unknown = client.http.post("/api/directory/contacts/ct-nosuch/account/reset", headers=admin)
    assert unknown.status_code == 404
