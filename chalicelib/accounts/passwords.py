"""Password hashing and the password policy of external accounts.

Hashes use scrypt (memory-hard: each guess costs 128·N·r bytes of memory, 32 MiB at the default N = 2^15, r = 8),
a 16-byte random salt per password and a 64-byte key, encoded with their parameters —
`scrypt$<N>$<r>$<p>$<salt b64>$<key b64>` — so the cost can be raised later: a hash made with a lower cost still
verifies, and `needs_rehash` tells the sign-in to re-hash it with the current cost while it holds the password.
Comparisons are constant-time (`hmac.compare_digest`), and `verify_unknown` spends the same work on a password
given for an account that does not exist, so the time of an answer says nothing about which names exist.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os

from chalicelib.core import config
from chalicelib.core.errors import BadRequest

SCHEME = "scrypt"
R, P = 8, 1
KEY_BYTES, SALT_BYTES = 64, 16
MIN_LENGTH, MAX_LENGTH = 10, 128

# Passwords people pick that the character-class rule alone would let through (compared case-insensitively).
COMMON_PASSWORDS = frozenset(
    p.lower()
    for p in (
        "Password123", "Password123!", "Password@123", "P@ssw0rd123", "P@ssword123", "Passw0rd!23", "Password1!",
        "Qwerty123!", "Qwerty@123", "Qwerty12345", "Qwertyuiop1", "Qwer1234!@#$", "1qaz@WSX3edc", "1qaz2wsx#EDC",
        "Zaq12wsx!@", "Aa123456789", "Aa12345678!", "Abc123456!", "Abcd1234!@#$", "Abc@123456", "Admin@12345",
        "Admin123456!", "Administrator1", "Welcome123!", "Welcome@123", "Welcome1234", "Changeme123!", "Letmein123!",
        "Iloveyou123!", "Sunshine123!", "Football123!", "Monkey12345!", "Dragon12345!", "Woaini1314!",
        "Woaini520!!", "Huawei@123", "Huawei12345", "Root@123456", "Test@123456", "Test1234567!", "Yunqiao123!",
        "Yunqiao@123", "Wecom@12345", "Wechat@12345", "Weixin@12345", "Company@123", "Summer2024!", "Winter2024!",
        "Spring2025!", "Autumn2025!", "1234567890Aa", "123456789Aa!", "Asdf1234!@#$", "Zxcvbnm123!", "Q1w2e3r4t5!",
    )
)


def _encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    # maxmem above 128·N·r: OpenSSL's default cap (32 MiB) is exactly the default cost's need and would refuse it.
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=KEY_BYTES,
                          maxmem=256 * n * r + 1024 * 1024)


def hash_password(password: str) -> str:
    """A new salted hash of `password` at the current cost."""
    n = config.scrypt_n()
    salt = os.urandom(SALT_BYTES)
    return f"{SCHEME}${n}${R}${P}${_encode(salt)}${_encode(_derive(password, salt, n, R, P))}"


def _parse(encoded: str) -> tuple[int, int, int, bytes, bytes] | None:
    parts = encoded.split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        return None
    try:
        n, r, p = (int(part) for part in parts[1:4])
        return n, r, p, base64.b64decode(parts[4], validate=True), base64.b64decode(parts[5], validate=True)
    except ValueError:
        return None


def verify_password(password: str, encoded: str) -> bool:
    """Whether `password` matches the stored hash (False for a malformed hash, never an exception)."""
    parsed = _parse(encoded)
    if parsed is None:
        return False
    n, r, p, salt, key = parsed
    return hmac.compare_digest(_derive(password, salt, n, r, p), key)


@functools.lru_cache(maxsize=4)
def _dummy_hash(n: int) -> str:
    """A hash of a random password at cost `n`, made once per process and cost."""
    return hash_password(_encode(os.urandom(24)))


def verify_unknown(password: str) -> bool:
    """Spend the work of a verification on an account that does not exist. Always False."""
    verify_password(password, _dummy_hash(config.scrypt_n()))
    return False


def needs_rehash(encoded: str) -> bool:
    """A hash made at a lower cost or another layout than today's: re-hash it while the password is at hand (a
    higher cost is kept: lowering the setting never weakens stored hashes)."""
    parsed = _parse(encoded)
    return parsed is None or parsed[0] < config.scrypt_n() or parsed[1:3] != (R, P) or len(parsed[4]) != KEY_BYTES


def _classes(password: str) -> int:
    return sum((
        any(c.islower() for c in password),
        any(c.isupper() for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() for c in password),
    ))


def check_policy(password: str, account_name: str) -> None:
    """Refuse a password that is short, simple, names the account or is a known common one (400 weak_password)."""
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        raise BadRequest(f"the password needs at least {MIN_LENGTH} characters", code="weak_password")
    if len(password) > MAX_LENGTH:
        raise BadRequest(f"the password may have at most {MAX_LENGTH} characters", code="weak_password")
    if _classes(password) < 3:
        raise BadRequest("the password needs three of: lower-case letters, upper-case letters, digits, symbols",
                         code="weak_password")
    if account_name and account_name.lower() in password.lower():
        raise BadRequest("the password may not contain the account name", code="weak_password")
    if password.lower() in COMMON_PASSWORDS:
        raise BadRequest("this password is too common; choose another", code="weak_password")
