"""External sign-in: password sessions, the same answer for unknown and wrong, anti-automation (per name and source,
per name, per source) that never locks the owner out, sign-out, password change, and the contact's own profile."""
from __future__ import annotations

import hashlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib import accounts
from chalicelib.auth import sessions
from chalicelib.accounts import service
from chalicelib.core import clock
from chalicelib.accounts.throttle import Throttled
from chalicelib.directory import audit
from chalicelib.directory.contacts import create_contact
from chalicelib.core.errors import Unauthorized
from chalicelib.store import contacts as contact_store
from tests.integration.api_support import bearer_of, body as _json, error_code

PASSWORD = "Harbour-Lights-42"


@pytest.fixture
def moved_clock(monkeypatch):
    """The clock (`core.clock`), moved by hand instead of sleeping (at the start of the next 15-minute window, so the
    per-source figures do not depend on when the test runs). Each reading moves it on by 10 µs, so stamps written
    one after the other (the audit trail) still sort in the order they were written."""
    start = clock.now()
    state = {"now": start - start % 900 + 900 + 1}  # the next window: the clock never goes back

    def now() -> float:
        state["now"] += 0.00001
        return state["now"]

    monkeypatch.setattr(clock, "now", now)

    def advance(seconds: float) -> None:
        state["now"] += seconds

    return advance


@pytest.fixture
def account(demo_tenant):
    """A contact with an activated account: (contact, account name)."""
    contact = create_contact(demo_tenant, {"name": "王采购", "mobile": "13800138000", "email": "wang@example.com",
                                           "position": "采购经理"}, source="manual", adder_id="zhangsan",
                             actor="zhangsan")
    opened = accounts.open_account(demo_tenant, contact.contact_id, actor="lisi")
    service.activate(demo_tenant.tenant_key, opened["activationUrl"].rsplit("=", 1)[1], PASSWORD)
    return contact, opened["accountName"]


def _sign_in(client, tenant_key: str, account: str, password: str):
    return client.http.post("/api/external/session/password", headers={"Content-Type": "application/json"},
                            body=json.dumps({"tenantKey": tenant_key, "account": account, "password": password}))


def test_the_right_password_opens_a_session_bound_to_the_tenant_and_contact(client, demo_tenant, account):
    contact, name = account
    reply = _sign_in(client, demo_tenant.tenant_key, name.upper(), PASSWORD)
    assert reply.status_code == 201
    body = _json(reply)
    assert body["token"].startswith(f"yq1.{demo_tenant.tenant_key}.") and body["mustChangePassword"] is False
    assert body["contact"]["contactId"] == contact.contact_id and body["contact"]["name"] == "王采购"
    session = sessions.resolve(body["token"])
    assert (session.kind, session.subject, session.method) == ("contact", contact.contact_id, "password")
    assert body["expiresAt"] == session.expires_at

    me = client.http.get("/api/external/me", headers=bearer_of(reply))
    assert me.status_code == 200
    assert _json(me) == {
        "contact": {"contactId": contact.contact_id, "name": "王采购", "mobile": "13800138000",
                    "email": "wang@example.com", "position": "采购经理", "orgName": None},
        "tenant": {"tenantKey": demo_tenant.tenant_key, "name": demo_tenant.name},
        "apps": _json(me)["apps"],
        "accountName": name,
        "mustChangePassword": False,
        "passwordSet": True,
        "wechat": {"bound": False, "available": False, "fromWeCom": False},
    }
    assert [app["key"] for app in _json(me)["apps"]][-1] == "crm_funds" and len(_json(me)["apps"]) == 17


def test_unknown_account_and_wrong_password_get_the_same_answer_after_the_same_work(client, demo_tenant, account,
                                                                                  monkeypatch, make_tenant):
    _, name = account
    derivations = []
    real = hashlib.scrypt

    def counting(*args, **kwargs):
        derivations.append(kwargs["n"])
        return real(*args, **kwargs)

    service.passwords.verify_unknown("warm up the dummy hash")
    monkeypatch.setattr(hashlib, "scrypt", counting)
    wrong = _sign_in(client, demo_tenant.tenant_key, name, "Wrong-Password-1")
    unknown = _sign_in(client, demo_tenant.tenant_key, "yqnosuchname", "Wrong-Password-1")
    elsewhere = _sign_in(client, make_tenant().tenant_key, name, PASSWORD)
    assert wrong.status_code == unknown.status_code == elsewhere.status_code == 401
    assert wrong.body == unknown.body == elsewhere.body
    assert error_code(wrong) == "invalid_credentials"
    assert derivations == [1024, 1024, 1024]


@pytest.mark.parametrize("body", [{}, {"account": "yqabc"}, {"password": PASSWORD}, {"account": 7, "password": "x"},
                                  {"account": "yqabc", "password": ["x"]}])
def test_incomplete_sign_ins_are_bad_requests(client, demo_tenant, body):
    reply = client.http.post("/api/external/session/password", headers={"Content-Type": "application/json"},
                             body=json.dumps({"tenantKey": demo_tenant.tenant_key, **body}))
    assert reply.status_code == 400 and error_code(reply) == "invalid_body"


def test_an_unknown_name_is_throttled_exactly_like_a_real_one(client, demo_tenant, account, moved_clock):
    _, name = account
    answers = {}
    for attempted in (name, "yqnosuchname"):
        answers[attempted] = [_sign_in(client, demo_tenant.tenant_key, attempted, "Wrong-Password-1")
                              for _ in range(6)]
    real, unknown = answers[name], answers["yqnosuchname"]
    assert [r.status_code for r in real] == [r.status_code for r in unknown] == [401] * 5 + [429]
    assert [r.body for r in real] == [r.body for r in unknown]
    assert real[-1].headers["Retry-After"] == unknown[-1].headers["Retry-After"] == "30"


def test_a_success_forgets_earlier_failures(client, demo_tenant, account, moved_clock):
    _, name = account
    for _ in range(4):
        _sign_in(client, demo_tenant.tenant_key, name, "Wrong-Password-1")
    assert _sign_in(client, demo_tenant.tenant_key, name, PASSWORD).status_code == 201
    for _ in range(4):
        assert _sign_in(client, demo_tenant.tenant_key, name, "Wrong-Password-1").status_code == 401
    assert _sign_in(client, demo_tenant.tenant_key, name, PASSWORD).status_code == 201


def test_an_hour_of_quiet_forgets_a_sources_failures(client, demo_tenant, account, moved_clock):
    _, name = account
    for _ in range(6):
        _sign_in(client, demo_tenant.tenant_key, name, "Wrong-Password-1")
    moved_clock(60 + 60 * 60 + 1)
    for _ in range(5):
        assert _sign_in(client, demo_tenant.tenant_key, name, "Wrong-Password-1").status_code == 401


def test_a_parallel_burst_gets_no_more_than_five_guesses(emulator, demo_tenant, account):
    """Twelve simultaneous guesses from one source: each takes its place before its password is checked, so five
    are checked and seven refused (the emulator applies each conditional write atomically, as DynamoDB does)."""
    _, name = account
    barrier = threading.Barrier(12)

    def guess(index: int) -> str:
        barrier.wait()
        try:
            service.sign_in(demo_tenant.tenant_key, name, f"Wrong-Password-{index:02d}", "198.51.100.7")
        except Throttled as err:
            return err.code
        except Unauthorized as err:
            return err.code
        return "signed_in"

    with ThreadPoolExecutor(max_workers=12) as pool:
        outcomes = list(pool.map(guess, range(12)))
    assert sorted(outcomes) == ["invalid_credentials"] * 5 + ["too_many_attempts"] * 7


def test_twenty_failures_from_one_source_stop_it_on_names_it_never_signed_in_to(client, demo_tenant, account,
                                                                                moved_clock):
    _, name = account
    for index in range(20):
        reply = _sign_in(client, demo_tenant.tenant_key, f"guess{index:02d}", "Wrong-Password-1")
        assert reply.status_code == 401, index
    blocked = _sign_in(client, demo_tenant.tenant_key, name, PASSWORD)
    assert blocked.status_code == 429 and error_code(blocked) == "too_many_attempts"
    assert int(blocked.headers["Retry-After"]) > 0
    other_source = service.sign_in(demo_tenant.tenant_key, name, PASSWORD, "203.0.113.50")
    assert other_source["token"]
    moved_clock(15 * 60)  # the previous window still weighs almost fully
    assert _sign_in(client, demo_tenant.tenant_key, name, PASSWORD).status_code == 429
    moved_clock(15 * 60)
    assert _sign_in(client, demo_tenant.tenant_key, name, PASSWORD).status_code == 201


def test_successes_do_not_count_against_the_source(client, demo_tenant, account, moved_clock):
    _, name = account
    for _ in range(25):
        assert _sign_in(client, demo_tenant.tenant_key, name, PASSWORD).status_code == 201


# --- anti-automation that cannot be turned on the owner (issue 19, finding 8) ------------------------------------
ATTACKER = "198.51.100.66"


def test_an_attacker_elsewhere_never_locks_the_owner_out(client, demo_tenant, account, moved_clock):
    """Five wrong passwords every fifteen minutes from somewhere else: the owner (here, 127.0.0.1 through the API)
    signs in every time."""
    _, name = account
    for _ in range(3):
        for _ in range(5):
            with pytest.raises((Unauthorized, Throttled)):
                service.sign_in(demo_tenant.tenant_key, name, "Wrong-Password-1", ATTACKER)
        assert _sign_in(client, demo_tenant.tenant_key, name, PASSWORD).status_code == 201
        moved_clock(15 * 60)


def test_failures_from_the_owners_address_on_other_names_do_not_block_the_owner(client, demo_tenant, account):
    """A shared address (an office's NAT) full of failed guesses on other names: a correct sign-in that signed in
    from there before still gets through."""
    _, name = account
    assert _sign_in(client, demo_tenant.tenant_key, name, PASSWORD).status_code == 201
    for index in range(30):
        assert _sign_in(client, demo_tenant.tenant_key, f"guess{index:02d}", "Wrong-Password-1").status_code in (
            401, 429)
    assert _sign_in(client, demo_tenant.tenant_key, name, PASSWORD).status_code == 201


def test_one_source_guessing_one_account_waits_longer_and_longer(client, demo_tenant, account, moved_clock):
    _, name = account
    for _ in range(4):
        assert error_code(_sign_in(client, demo_tenant.tenant_key, name, "Wrong-Password-1")) == "invalid_credentials"
    waits = []
    for _ in range(4):
        assert error_code(_sign_in(client, demo_tenant.tenant_key, name, "Wrong-Password-1")) == "invalid_credentials"
        refused = _sign_in(client, demo_tenant.tenant_key, name, PASSWORD)
        assert refused.status_code == 429 and error_code(refused) == "too_many_attempts"
        waits.append(int(refused.headers["Retry-After"]))
        moved_clock(waits[-1])
    assert waits == [30, 60, 120, 240]
    assert _sign_in(client, demo_tenant.tenant_key, name, PASSWORD).status_code == 201
    assert _sign_in(client, demo_tenant.tenant_key, name, "Wrong-Password-1").status_code == 401  # forgotten


def test_an_account_takes_at_most_a_hundred_failures_an_hour_from_new_places(client, demo_tenant, account,
                                                                               moved_clock):
    """Many sources, each below its own backoff: the account as a whole stops checking passwords from sources it
    has never seen succeed, and still lets its owner in from where they signed in before."""
    _, name = account
    assert _sign_in(client, demo_tenant.tenant_key, name, PASSWORD).status_code == 201
    outcomes = []
    for index in range(105):
        try:
            service.sign_in(demo_tenant.tenant_key, name, "Wrong-Password-1", f"203.0.113.{index}")
        except (Unauthorized, Throttled) as err:
            outcomes.append(err.code)
    assert outcomes == ["invalid_credentials"] * 100 + ["too_many_attempts"] * 5
    with pytest.raises(Throttled):
        service.sign_in(demo_tenant.tenant_key, name, PASSWORD, "192.0.2.200")
    assert _sign_in(client, demo_tenant.tenant_key, name, PASSWORD).status_code == 201
    moved_clock(2 * 60 * 60)
    assert service.sign_in(demo_tenant.tenant_key, name, PASSWORD, "192.0.2.200")["token"]


def test_sign_out_revokes_only_that_session(client, demo_tenant, account):
    _, name = account
    first, second = (bearer_of(_sign_in(client, demo_tenant.tenant_key, name, PASSWORD)) for _ in range(2))
    assert client.http.delete("/api/external/session", headers=first).status_code == 204
    gone = client.http.get("/api/external/me", headers=first)
    assert gone.status_code == 401 and error_code(gone) == "invalid_session"
    assert client.http.delete("/api/external/session", headers=first).status_code == 401
    assert client.http.get("/api/external/me", headers=second).status_code == 200


def test_a_password_change_keeps_this_session_and_ends_the_others(client, demo_tenant, account, moved_clock):
    contact, name = account
    current, other, third = (bearer_of(_sign_in(client, demo_tenant.tenant_key, name, PASSWORD)) for _ in range(3))

    def change(current_password: str, new_password: str):
        return client.http.post("/api/external/me/password", headers=current, body=json.dumps(
            {"currentPassword": current_password, "newPassword": new_password}))

    wrong = change("Wrong-Password-1", "Brand-New-Pass-77")
    assert wrong.status_code == 403 and error_code(wrong) == "invalid_current_password"
    assert error_code(change(PASSWORD, "weakpass")) == "weak_password"
    assert error_code(change(PASSWORD, PASSWORD)) == "password_unchanged"
    changed = change(PASSWORD, "Brand-New-Pass-77")
    # the two other sign-ins and the session the activation opened
    assert changed.status_code == 200 and _json(changed)["otherSessionsEnded"] == 3
    assert client.http.get("/api/external/me", headers=current).status_code == 200
    for headers in (other, third):
        assert client.http.get("/api/external/me", headers=headers).status_code == 401
    assert _sign_in(client, demo_tenant.tenant_key, name, PASSWORD).status_code == 401
    assert _sign_in(client, demo_tenant.tenant_key, name, "Brand-New-Pass-77").status_code == 201
    trail = audit.history(demo_tenant.tenant_key, contact.contact_id)["entries"]
    assert trail[0]["action"] == "account_password_changed" and trail[0]["actor"] == f"contact:{contact.contact_id}"
    assert "Brand-New-Pass-77" not in json.dumps(trail)


def test_wrong_current_passwords_count_like_sign_in_failures(client, demo_tenant, account, moved_clock):
    _, name = account
    headers = bearer_of(_sign_in(client, demo_tenant.tenant_key, name, PASSWORD))
    for _ in range(5):
        client.http.post("/api/external/me/password", headers=headers, body=json.dumps(
            {"currentPassword": "Wrong-Password-1", "newPassword": "Brand-New-Pass-77"}))
    waiting = client.http.post("/api/external/me/password", headers=headers, body=json.dumps(
        {"currentPassword": PASSWORD, "newPassword": "Brand-New-Pass-77"}))
    assert waiting.status_code == 429 and error_code(waiting) == "too_many_attempts"
    assert error_code(_sign_in(client, demo_tenant.tenant_key, name, PASSWORD)) == "too_many_attempts"
    assert service.sign_in(demo_tenant.tenant_key, name, PASSWORD, "203.0.113.50")["token"]  # elsewhere: fine


def test_the_contact_edits_their_own_basic_information(client, demo_tenant, account):
    contact, name = account
    headers = bearer_of(_sign_in(client, demo_tenant.tenant_key, name, PASSWORD))
    reply = client.http.patch("/api/external/me", headers=headers, body=json.dumps(
        {"name": "王大采购", "mobile": "139 0013 9000", "email": "Wang@Example.COM", "position": None}))
    assert reply.status_code == 200
    assert _json(reply)["contact"] == {"contactId": contact.contact_id, "name": "王大采购", "mobile": "13900139000",
                                       "email": "wang@example.com", "position": None, "orgName": None}
    stored = contact_store.get(demo_tenant.tenant_key, contact.contact_id)
    assert (stored.name, stored.mobile, stored.position) == ("王大采购", "13900139000", None)
    entry = audit.history(demo_tenant.tenant_key, contact.contact_id)["entries"][0]
    assert entry["actor"] == f"contact:{contact.contact_id}" and entry["after"]["name"] == "王大采购"
    assert entry["before"]["name"] == "王采购"


@pytest.mark.parametrize("body, code", [
    ({"email": "not-an-address"}, "invalid_email"),
    ({"mobile": "12345"}, "invalid_mobile"),
    ({"name": ""}, "invalid_name"),
    ({"name": "x" * 65}, "invalid_name"),
    ({"remark": "mine now"}, "unknown_field"),
    ({"securityLevel": 0}, "unknown_field"),
    ({"accountStatus": "opened"}, "unknown_field"),
])
def test_the_contact_may_not_write_bad_values_or_other_fields(client, demo_tenant, account, body, code):
    contact, name = account
    headers = bearer_of(_sign_in(client, demo_tenant.tenant_key, name, PASSWORD))
    reply = client.http.patch("/api/external/me", headers=headers, body=json.dumps(body))
    assert reply.status_code == 400 and error_code(reply) == code
    assert contact_store.get(demo_tenant.tenant_key, contact.contact_id).name == "王采购"


def test_member_and_contact_sessions_do_not_open_each_others_doors(client, sign_in, demo_tenant, account):
    _, name = account
    member = sign_in(demo_tenant, "zhangsan")
    contact = bearer_of(_sign_in(client, demo_tenant.tenant_key, name, PASSWORD))
    refused = client.http.get("/api/external/me", headers=member)
    assert refused.status_code == 401 and error_code(refused) == "contact_session_required"
    assert client.http.delete("/api/external/session", headers=member).status_code == 401
    assert client.http.get("/api/directory/external-apps", headers=contact).status_code == 401
    assert client.http.get("/api/external/me", headers={}).status_code == 401


def test_a_session_of_a_deleted_contact_stops_working(client, demo_tenant, account):
    contact, name = account
    headers = bearer_of(_sign_in(client, demo_tenant.tenant_key, name, PASSWORD))
    contact_store.Contact(demo_tenant.tenant_key, contact.contact_id).delete()
    assert client.http.get("/api/external/me", headers=headers).status_code == 401


def test_a_sign_in_raises_an_older_hash_to_the_current_cost(client, demo_tenant, account, monkeypatch):
    from chalicelib.store import accounts as account_store

    contact, name = account
    assert account_store.account_of(demo_tenant.tenant_key, contact.contact_id).password_hash.startswith("scrypt$1024$")
    monkeypatch.setenv("YQ_SCRYPT_N", "2048")
    assert _sign_in(client, demo_tenant.tenant_key, name, PASSWORD).status_code == 201
    raised = account_store.account_of(demo_tenant.tenant_key, contact.contact_id).password_hash
    assert raised.startswith("scrypt$2048$")
    assert _sign_in(client, demo_tenant.tenant_key, name, PASSWORD).status_code == 201
    assert account_store.account_of(demo_tenant.tenant_key, contact.contact_id).password_hash == raised
