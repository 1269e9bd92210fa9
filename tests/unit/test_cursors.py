"""The one page-cursor codec (`core.cursors`): round trips, and every cursor that is not one this deployment handed
out for this partition refused with 400 `invalid_cursor` — forged, altered, re-signed with another key, another
partition's, malformed."""
from __future__ import annotations

import base64
import json

import pytest

from chalicelib.core import cursors
from chalicelib.core.errors import BadRequest

OURS = base64.b64encode(b"k" * 32).decode()
OLD = base64.b64encode(b"o" * 32).decode()
THEIRS = base64.b64encode(b"t" * 32).decode()


@pytest.fixture(autouse=True)
def keys(monkeypatch):
    """The deployment's signing keys, as Secrets Manager would hold them (current k2, older k1 still accepted)."""
    stored = {"current": "k2", "keys": {"k2": OURS, "k1": OLD}}
    monkeypatch.setattr(cursors.secrets, "signing_keys", lambda secret_id: stored)
    return stored


def refused(call) -> None:
    with pytest.raises(BadRequest) as error:
        call()
    assert error.value.code == "invalid_cursor" and error.value.status == 400


def test_key_cursors_round_trip_and_are_bound_to_their_partition():
    key = {"accessKey": {"S": "tn1#lisi"}, "entryKey": {"S": "org-1#ct-1"}}
    cursor = cursors.encode(key)
    assert cursors.decode(cursor, {"accessKey": "tn1#lisi"}, ("entryKey",)) == key
    assert cursors.encode(None) is None and cursors.decode(None, {}, ()) is None
    for genuine_but_wrong in (cursors.encode({**key, "accessKey": {"S": "tn1#zhaoliu"}}),  # another partition's
                              cursors.encode({**key, "extra": {"S": "x"}}),
                              cursors.encode({"accessKey": {"S": "tn1#lisi"}, "entryKey": {"N": "1"}})):
        refused(lambda: cursors.decode(genuine_but_wrong, {"accessKey": "tn1#lisi"}, ("entryKey",)))
    for malformed in ("not base64 !", "e30", "e30.", ".", "a.b.c", "x" * 3000, "é.x"):
        refused(lambda: cursors.decode(malformed, {"accessKey": "tn1#lisi"}, ("entryKey",)))


def test_an_altered_or_forged_cursor_is_refused_before_its_payload_is_read():
    cursor = cursors.encode_one("submission#20300101T000000Z-aa", scope="submissions:tn1:F-1")
    body, mac = cursor.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    altered = base64.urlsafe_b64encode(json.dumps({**payload, "after": "submission#2"}).encode()).decode().rstrip("=")
    refused(lambda: cursors.decode_one(f"{altered}.{mac}", "submission#", scope="submissions:tn1:F-1"))
    refused(lambda: cursors.decode_one(f"{body}.{'A' * len(mac)}", "submission#", scope="submissions:tn1:F-1"))
    refused(lambda: cursors.decode_one(body, "submission#", scope="submissions:tn1:F-1"))  # the MAC left off
    # A payload of the right shape, signed with a key that is not the deployment's.
    stored = {"current": "k9", "keys": {"k9": THEIRS}}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cursors.secrets, "signing_keys", lambda secret_id: stored)
        foreign = cursors.encode_one("submission#x", scope="submissions:tn1:F-1")
    refused(lambda: cursors.decode_one(foreign, "submission#", scope="submissions:tn1:F-1"))


def test_a_cursor_of_another_partition_or_list_is_refused():
    cursor = cursors.encode_many({"task": "f#task#x"}, scope="feed:tn1:ct-chen")
    assert cursors.decode_many(cursor, {"task": "f#task#"}, scope="feed:tn1:ct-chen") == {"task": "f#task#x"}
    refused(lambda: cursors.decode_many(cursor, {"task": "f#task#"}, scope="feed:tn1:ct-lin"))
    refused(lambda: cursors.decode_many(cursor, {"task": "f#task#"}, scope="feed:tn2:ct-chen"))
    refused(lambda: cursors.decode_one(cursor, "f#task#", scope="submissions:tn1:F-1"))
    other_kind = cursors.encode_many({"project": "f#project#x"}, scope="feed:tn1:ct-chen")
    refused(lambda: cursors.decode_many(other_kind, {"task": "f#task#"}, scope="feed:tn1:ct-chen"))
    wrong_prefix = cursors.encode_one("f#project#x", scope="feed:tn1:ct-chen")
    refused(lambda: cursors.decode_one(wrong_prefix, "f#task#", scope="feed:tn1:ct-chen"))


def test_cursors_made_with_an_older_key_still_work_after_a_rotation(keys):
    keys["current"] = "k1"
    before = cursors.encode_one("submission#1", scope="s")
    keys["current"] = "k2"
    assert cursors.decode_one(before, "submission#", scope="s") == "submission#1"
    del keys["keys"]["k1"]  # a key the operator retired: its cursors end
    refused(lambda: cursors.decode_one(before, "submission#", scope="s"))
