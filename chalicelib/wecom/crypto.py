"""WeCom callback encryption (WXBizMsgCrypt, doc 91144), compatible with the official SDKs.

Every failure is a :class:`WeComCryptoError` carrying WeCom's own -400xx code, so a handler can log the
code peers and WeCom's docs use and never has to guess which low-level exception a malformed input raises.
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import hmac
import os
from dataclasses import dataclass

from Crypto.Cipher import AES

SIGNATURE_ERROR = -40001
PARSE_XML_ERROR = -40002
COMPUTE_SIGNATURE_ERROR = -40003
ILLEGAL_AES_KEY = -40004
RECEIVE_ID_MISMATCH = -40005
ENCRYPT_ERROR = -40006
DECRYPT_ERROR = -40007
ILLEGAL_BUFFER = -40008
BASE64_ENCODE_ERROR = -40009
BASE64_DECODE_ERROR = -40010
BUILD_XML_ERROR = -40011

# WeCom pads to 32-byte blocks (not AES's 16), so a valid pad value is 1..32.
_PAD_BLOCK = 32
_PADS = tuple(bytes([n]) * n for n in range(_PAD_BLOCK + 1))
_AES_BLOCK = 16
_RANDOM_LEN = 16
_HEADER_LEN = _RANDOM_LEN + 4


class WeComCryptoError(Exception):
    """A callback that cannot be trusted or read; ``code`` is WeCom's official -400xx error code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Decrypted:
    """A decrypted payload with the receive id it was addressed to.

    The receive id is returned rather than only checked because one suite callback URL receives both
    suite_id-addressed instruction callbacks and corpid-addressed data callbacks.
    """

    message: str
    receive_id: str


@dataclass(frozen=True)
class Encrypted:
    """What WeCom's peers expect to receive: the base64 ciphertext and its msg_signature."""

    encrypt: str
    signature: str


class WeComCrypto:
    """Verifies, decrypts and encrypts WeCom callbacks for one (token, EncodingAESKey) pair.

    Instances hold only immutable key material, so one instance may be shared by concurrent callers. Decryption
    runs CBC over one reused ECB cipher (stateless) instead of creating a CBC cipher per call, which costs more
    than the decryption itself on a callback-sized message; encryption, off the hot path, uses a CBC cipher per call.
    """

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str | None = None) -> None:
        self._token = token
        key = _decode_aes_key(encoding_aes_key)
        self._new_cbc = functools.partial(AES.new, key, AES.MODE_CBC, key[:16])
        self._ecb = AES.new(key, AES.MODE_ECB)
        self._iv = key[:16]
        self.receive_id = receive_id
        self._receive_id_bytes = None if receive_id is None else receive_id.encode("utf-8")

    def signature(self, timestamp: str, nonce: str, encrypt: str) -> str:
        """WeCom's msg_signature: SHA-1 over the sorted concatenation of token, timestamp, nonce and encrypt."""
        try:
            joined = "".join(sorted((self._token, timestamp, nonce, encrypt)))
            return hashlib.sha1(joined.encode("utf-8")).hexdigest()
        except (TypeError, UnicodeEncodeError) as exc:
            raise WeComCryptoError(COMPUTE_SIGNATURE_ERROR, f"cannot compute signature: {exc}") from None

    def url_signature_matches(self, signature: str, timestamp: str, nonce: str) -> bool:
        """A WeChat official account's URL check (GET ?signature&timestamp&nonce&echostr) signs no ciphertext: SHA-1
        over the sorted token, timestamp and nonce, compared in constant time; the echostr is answered as sent."""
        try:
            expected = hashlib.sha1("".join(sorted((self._token, timestamp, nonce))).encode("utf-8")).hexdigest()
        except (TypeError, UnicodeEncodeError):
            return False
        return isinstance(signature, str) and signature.isascii() and hmac.compare_digest(expected, signature)

    def verify_url(self, msg_signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """Answers WeCom's URL check: the decrypted echostr is the whole reply body."""
        return self.decrypt(msg_signature, timestamp, nonce, echostr).message

    def decrypt(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> Decrypted:
        """Verifies the signature before touching the ciphertext, so unauthenticated input never reaches
        the padding and length checks (no padding oracle), then decrypts."""
        expected = self.signature(timestamp, nonce, encrypt)
        if not (isinstance(msg_signature, str) and msg_signature.isascii()
                and hmac.compare_digest(expected, msg_signature)):
            raise WeComCryptoError(SIGNATURE_ERROR, "msg_signature does not match")
        return self._decrypt(encrypt)

    def encrypt(self, message: str, nonce: str, timestamp: str,
                random_prefix: bytes | None = None) -> Encrypted:
        """Encrypts a reply or a simulated callback; ``random_prefix`` makes it deterministic for tests."""
        if self._receive_id_bytes is None:
            raise WeComCryptoError(ENCRYPT_ERROR, "encrypt needs a receive_id: create WeComCrypto with one")
        prefix = os.urandom(_RANDOM_LEN) if random_prefix is None else random_prefix
        if len(prefix) != _RANDOM_LEN:
            raise WeComCryptoError(ENCRYPT_ERROR, f"random_prefix must be {_RANDOM_LEN} bytes")
        try:
            body = message.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise WeComCryptoError(ENCRYPT_ERROR, f"message is not encodable as UTF-8: {exc}") from None
        plain = b"".join((prefix, len(body).to_bytes(4, "big"), body, self._receive_id_bytes))
        pad = _PAD_BLOCK - len(plain) % _PAD_BLOCK
        ciphertext = self._new_cbc().encrypt(plain + _PADS[pad])
        encrypt = binascii.b2a_base64(ciphertext, newline=False).decode("ascii")
        return Encrypted(encrypt=encrypt, signature=self.signature(timestamp, nonce, encrypt))

    def _decrypt(self, encrypt: str) -> Decrypted:
        try:
            ciphertext = binascii.a2b_base64(encrypt, strict_mode=True)
        except (ValueError, TypeError) as exc:
            raise WeComCryptoError(BASE64_DECODE_ERROR, f"Encrypt is not valid base64: {exc}") from None
        if not ciphertext or len(ciphertext) % _AES_BLOCK:
            raise WeComCryptoError(DECRYPT_ERROR, f"ciphertext length {len(ciphertext)} is not a positive "
                                                  f"multiple of {_AES_BLOCK}")
        plain = self._cbc_decrypt(ciphertext)

        pad = plain[-1]
        if not 1 <= pad <= _PAD_BLOCK or not plain.endswith(_PADS[pad]):
            raise WeComCryptoError(ILLEGAL_BUFFER, "bad PKCS#7 padding")
        body_end = len(plain) - pad
        # msg_end is at least _HEADER_LEN, so this also rejects a plaintext too short for its length header.
        msg_end = _HEADER_LEN + int.from_bytes(plain[_RANDOM_LEN:_HEADER_LEN], "big")
        if msg_end > body_end:
            raise WeComCryptoError(ILLEGAL_BUFFER, "length header exceeds the plaintext")

        receive_id = plain[msg_end:body_end]
        if self._receive_id_bytes is not None and receive_id != self._receive_id_bytes:
            raise WeComCryptoError(RECEIVE_ID_MISMATCH, "receive id does not match")
        try:
            return Decrypted(message=plain[_HEADER_LEN:msg_end].decode("utf-8"),
                             receive_id=receive_id.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise WeComCryptoError(ILLEGAL_BUFFER, f"plaintext is not UTF-8: {exc}") from None


    def _cbc_decrypt(self, ciphertext: bytes) -> bytes:
        """CBC: each block's ECB decryption XOR the previous ciphertext block (the IV for the first)."""
        size = len(ciphertext)
        blocks = int.from_bytes(self._ecb.decrypt(ciphertext), "big")
        chain = int.from_bytes(self._iv + ciphertext[:-_AES_BLOCK], "big")
        return (blocks ^ chain).to_bytes(size, "big")


def _decode_aes_key(encoding_aes_key: str) -> bytes:
    if not isinstance(encoding_aes_key, str) or len(encoding_aes_key) != 43:
        raise WeComCryptoError(ILLEGAL_AES_KEY, "EncodingAESKey must be 43 characters")
    try:
        key = binascii.a2b_base64(encoding_aes_key + "=", strict_mode=True)
    except ValueError:
        raise WeComCryptoError(ILLEGAL_AES_KEY, "EncodingAESKey is not base64") from None
    if len(key) != 32:
        raise WeComCryptoError(ILLEGAL_AES_KEY, "EncodingAESKey does not decode to 32 bytes")
    return key
