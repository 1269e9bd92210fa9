"""Password hashing (scrypt, parameters in the hash), the password policy, the cost setting and account names."""
from __future__ import annotations

import hashlib
import re

import pytest

from chalicelib.core import config
from chalicelib.accounts import passwords, service, throttle
from chalicelib.core.errors import BadRequest


def test_a_hash_carries_its_parameters_and_a_fresh_salt():
    first, second = passwords.hash_password("Correct-Horse-7"), passwords.hash_password("Correct-Horse-7")
    assert first != second
    scheme, n, r, p, salt, key = first.split("$")
    assert (scheme, n, r, p) == ("scrypt", "1024", "8", "1")
    import base64

    assert len(base64.b64decode(salt)) == 16 and len(base64.b64decode(key)) == 64
    assert passwords.verify_password("Correct-Horse-7", first)
    assert passwords.verify_password("Correct-Horse-7", second)


@pytest.mark.parametrize("attempt", ["correct-horse-7", "Correct-Horse-", "Correct-Horse-7 ", ""])
def test_any_other_password_is_refused(attempt):
    assert not passwords.verify_password(attempt, passwords.hash_password("Correct-Horse-7"))


@pytest.mark.parametrize("stored", ["", "plain", "scrypt$1024$8$1$###$###", "bcrypt$1$2$3$4$5",
                                    "scrypt$x$8$1$AA==$AA=="])
def test_a_malformed_hash_verifies_nothing_and_asks_for_a_rehash(stored):
    assert passwords.verify_password("anything", stored) is False
    assert passwords.needs_rehash(stored)


def test_a_hash_made_at_another_cost_still_verifies_and_asks_to_be_rehashed(monkeypatch):
    old = passwords.hash_password("Correct-Horse-7")
    assert not passwords.needs_rehash(old)
    monkeypatch.setenv("YQ_SCRYPT_N", "2048")
    assert passwords.verify_password("Correct-Horse-7", old)
    assert passwords.needs_rehash(old)
    assert passwords.hash_password("x").split("$")[1] == "2048"
    monkeypatch.setenv("YQ_SCRYPT_N", "512")
    assert not passwords.needs_rehash(old)  # a lower setting never weakens a stored hash


def test_the_unknown_account_path_spends_a_full_derivation(monkeypatch):
    derived = []
    real = hashlib.scrypt

    def counting(*args, **kwargs):
        derived.append(kwargs["n"])
        return real(*args, **kwargs)

    passwords.verify_unknown("warm the dummy hash up")
    monkeypatch.setattr(hashlib, "scrypt", counting)
    assert passwords.verify_unknown("Correct-Horse-7") is False
    assert derived == [1024]


def test_the_default_cost_is_memory_hard_and_deployed_stages_never_go_below_it(monkeypatch):
    monkeypatch.delenv("YQ_SCRYPT_N")
    assert config.scrypt_n() == 2**15
    monkeypatch.setenv("YQ_SCRYPT_N", "1024")
    assert config.scrypt_n() == 1024
    for stage in ("dev", "prod"):
        monkeypatch.setenv("YQ_STAGE", stage)
        assert config.scrypt_n() == 2**15
    monkeypatch.setenv("YQ_SCRYPT_N", str(2**16))
    assert config.scrypt_n() == 2**16
    monkeypatch.setenv("YQ_SCRYPT_N", "1000")
    with pytest.raises(ValueError, match="must be a power of two"):
        config.scrypt_n()


def test_the_default_cost_runs_within_the_default_memory_cap(monkeypatch):
    monkeypatch.delenv("YQ_SCRYPT_N")
    encoded = passwords.hash_password("Correct-Horse-7")
    assert encoded.split("$")[1] == str(2**15)
    assert passwords.verify_password("Correct-Horse-7", encoded)


@pytest.mark.parametrize("password, account, rule", [
    ("Sh0rt!pw", "yqabc", "at least 10"),
    ("alllowercaseletters", "yqabc", "three of"),
    ("ALLUPPER1234", "yqabc", "three of"),
    ("1234567890!!", "yqabc", "three of"),
    ("Xy!" + "z" * 130, "yqabc", "at most"),
    ("My-zhangsan-99", "zhangsan", "account name"),
    ("My-ZHANGSAN-99", "zhangsan", "account name"),
    ("Password123!", "yqabc", "too common"),
    ("p@ssw0rd123", "yqabc", "too common"),
    ("P@SSW0RD123", "yqabc", "too common"),
])
def test_the_policy_refuses_weak_passwords_with_the_rule_broken(password, account, rule):
    with pytest.raises(BadRequest) as refused:
        passwords.check_policy(password, account)
    assert refused.value.code == "weak_password"
    assert rule in refused.value.message


@pytest.mark.parametrize("password", ["Correct-Horse-7", "长城-Great-Wall-2024", "blue.Sky.river", "9 lives of Tom"])
def test_the_policy_accepts_long_mixed_passwords(password):
    passwords.check_policy(password, "yqabcdefghij")


def test_generated_account_names_are_random_base32_and_valid():
    names = {service.new_account_name() for _ in range(2000)}
    assert len(names) == 2000
    assert all(re.fullmatch(r"yq[a-z2-7]{10}", name) and service.ACCOUNT_NAME.match(name) for name in names)


@pytest.mark.parametrize("name, normalised", [(" YQabc ", "yqabc"), ("Zhang.San", "zhang.san"), (None, ""), (7, "")])
def test_account_names_are_compared_trimmed_and_lower_case(name, normalised):
    assert service.normalise_name(name) == normalised


def test_an_attempted_name_is_counted_under_one_bounded_key_however_it_is_written():
    assert throttle.account_key("YQabc") == throttle.account_key(" yqabc ")
    assert throttle.account_key("yqabc") != throttle.account_key("yqabd")
    assert len(throttle.account_key("x" * 10_000)) == len("acct#") + 40


def test_the_source_window_weighs_the_previous_window_by_its_overlap():
    start = 1_700_000_100 - 1_700_000_100 % throttle.SOURCE_WINDOW
    previous, current, overlap = throttle._source_keys("203.0.113.9", start + throttle.SOURCE_WINDOW / 4)
    assert previous.endswith(f"#{start // throttle.SOURCE_WINDOW - 1}")
    assert current == f"ip#203.0.113.9#{start // throttle.SOURCE_WINDOW}"
    assert overlap == pytest.approx(0.75)
    assert throttle._source_keys("not an address; drop table", start)[1].startswith("ip#unknown#")


def test_the_delay_between_checks_grows_after_four_free_attempts_up_to_fifteen_minutes():
    assert [throttle.delay_after(n) for n in range(1, 12)] == [0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900]
