"""Conformance vectors and every failure path of the callback crypto, each with its official -400xx code."""

from __future__ import annotations

import base64

import pytest
from Crypto.Cipher import AES

from chalicelib.wecom import crypto as c
from chalicelib.wecom.crypto import WeComCrypto, WeComCryptoError
from chalicelib.wecom.xmlparse import parse_xml

from . import vectors as v

TS, NONCE = "1700000000", "424242"


def v1() -> WeComCrypto:
    return WeComCrypto(v.V1_TOKEN, v.V1_AES_KEY, v.V1_RECEIVE_ID)


def v3() -> WeComCrypto:
    return WeComCrypto(v.V3_TOKEN, v.V3_AES_KEY, v.V3_RECEIVE_ID)


def raw_encrypt(aes_key: str, plaintext: bytes) -> str:
    """Encrypts arbitrary (possibly malformed) plaintext, bypassing the padding WeComCrypto would add."""
    key = base64.b64decode(aes_key + "=")
    return base64.b64encode(AES.new(key, AES.MODE_CBC, key[:16]).encrypt(plaintext)).decode()


def frame(message: bytes, receive_id: bytes, pad: bytes) -> bytes:
    return b"R" * 16 + len(message).to_bytes(4, "big") + message + receive_id + pad


def decrypt_signed(crypto: WeComCrypto, encrypt: str) -> c.Decrypted:
    """Signs correctly so the failure under test is the one after the signature check."""
    return crypto.decrypt(crypto.signature(TS, NONCE, encrypt), TS, NONCE, encrypt)


def error_code(call) -> int:
    with pytest.raises(WeComCryptoError) as info:
        call()
    return info.value.code


# --- conformance vectors -------------------------------------------------------------------------

def test_v1_url_verification_returns_the_echostr_plaintext():
    assert v1().verify_url(v.V1_GET_SIGNATURE, v.V1_GET_TIMESTAMP, v.V1_GET_NONCE,
                           v.V1_GET_ECHOSTR) == v.V1_GET_PLAINTEXT


def test_v1_post_decrypts_the_official_text_message():
    result = v1().decrypt(v.V1_POST_SIGNATURE, v.V1_POST_TIMESTAMP, v.V1_POST_NONCE, v.V1_POST_ENCRYPT)
    assert result.receive_id == v.V1_RECEIVE_ID
    fields = parse_xml(result.message)
    assert {k: fields[k] for k in v.V1_POST_FIELDS} == v.V1_POST_FIELDS


def test_v1_signature_matches_the_official_one():
    assert v1().signature(v.V1_POST_TIMESTAMP, v.V1_POST_NONCE, v.V1_POST_ENCRYPT) == v.V1_POST_SIGNATURE


def test_v3_url_verification():
    assert v3().verify_url(v.V3_GET_SIGNATURE, v.V3_GET_TIMESTAMP, v.V3_GET_NONCE,
                           v.V3_GET_ECHOSTR) == v.V3_GET_PLAINTEXT


def test_v3_url_verification_with_wrong_nonce_fails_the_signature():
    assert error_code(lambda: v3().verify_url(v.V3_GET_SIGNATURE, v.V3_GET_TIMESTAMP, v.V3_GET_WRONG_NONCE,
                                              v.V3_GET_ECHOSTR)) == c.SIGNATURE_ERROR


def test_v3_post_decrypts():
    result = v3().decrypt(v.V3_POST_SIGNATURE, v.V3_POST_TIMESTAMP, v.V3_POST_NONCE, v.V3_POST_ENCRYPT)
    assert result.receive_id == v.V3_RECEIVE_ID
    fields = parse_xml(result.message)
    assert {k: fields[k] for k in v.V3_POST_FIELDS} == v.V3_POST_FIELDS


def test_v3_deterministic_encryption():
    result = v3().encrypt(v.V3_ENC_PLAINTEXT, v.V3_ENC_NONCE, v.V3_ENC_TIMESTAMP, v.V3_ENC_RANDOM_PREFIX)
    assert result.encrypt == v.V3_ENC_ENCRYPT
    assert result.signature == v.V3_ENC_SIGNATURE


def test_v3_deterministic_vector_decrypts_back():
    result = v3().decrypt(v.V3_ENC_SIGNATURE, v.V3_ENC_TIMESTAMP, v.V3_ENC_NONCE, v.V3_ENC_ENCRYPT)
    assert result.message == v.V3_ENC_PLAINTEXT


def test_v4_multibyte_encryption_counts_utf8_bytes():
    crypto = WeComCrypto("anytoken", v.V4_AES_KEY, v.V4_RECEIVE_ID)
    assert crypto.encrypt(v.V4_PLAINTEXT, NONCE, TS, v.V4_RANDOM_PREFIX).encrypt == v.V4_ENCRYPT
    assert decrypt_signed(crypto, v.V4_ENCRYPT).message == v.V4_PLAINTEXT


def test_ciphertexts_are_padded_to_32_byte_blocks():
    crypto = v3()
    for size in range(0, 70):
        raw = base64.b64decode(crypto.encrypt("x" * size, NONCE, TS).encrypt)
        unpadded = 16 + 4 + size + len(v.V3_RECEIVE_ID)
        assert len(raw) % 32 == 0 and 1 <= len(raw) - unpadded <= 32


def test_accepts_a_pad_of_exactly_32():
    # 16 random + 4 length + 11 (<xml></xml>) + 18 receive id = 49 bytes: 15 filler bytes make 64, so the
    # pad is a whole extra 32-byte block, which a 16-byte unpadder would reject.
    message = b"<xml>" + b"x" * 15 + b"</xml>"
    plain = frame(message, v.V3_RECEIVE_ID.encode(), bytes([32]) * 32)
    assert len(plain) == 96
    assert decrypt_signed(v3(), raw_encrypt(v.V3_AES_KEY, plain)).message == message.decode()


def test_random_prefix_makes_each_encryption_different():
    crypto = v3()
    assert crypto.encrypt("same", NONCE, TS).encrypt != crypto.encrypt("same", NONCE, TS).encrypt


# --- signature --------------------------------------------------------------------------------

def test_signature_is_checked_before_anything_else():
    assert error_code(lambda: v3().decrypt("0" * 40, TS, NONCE, "%%% not base64 %%%")) == c.SIGNATURE_ERROR


def test_tampered_ciphertext_fails_the_signature():
    tampered = ("A" if v.V3_POST_ENCRYPT[0] != "A" else "B") + v.V3_POST_ENCRYPT[1:]
    assert error_code(lambda: v3().decrypt(v.V3_POST_SIGNATURE, v.V3_POST_TIMESTAMP, v.V3_POST_NONCE,
                                           tampered)) == c.SIGNATURE_ERROR


@pytest.mark.parametrize("signature", ["", v.V3_POST_SIGNATURE.upper(), v.V3_POST_SIGNATURE[:-1],
                                       v.V3_POST_SIGNATURE + "0", "签名" * 20, None])
def test_malformed_signatures_are_signature_errors(signature):
    assert error_code(lambda: v3().decrypt(signature, v.V3_POST_TIMESTAMP, v.V3_POST_NONCE,
                                           v.V3_POST_ENCRYPT)) == c.SIGNATURE_ERROR


@pytest.mark.parametrize("timestamp, nonce", [(None, NONCE), (TS, None), (TS, "\ud800")])
def test_uncomputable_signature_is_reported_as_such(timestamp, nonce):
    assert error_code(lambda: v3().decrypt(v.V3_POST_SIGNATURE, timestamp, nonce,
                                           v.V3_POST_ENCRYPT)) == c.COMPUTE_SIGNATURE_ERROR


# --- tampering, keys and receive ids ------------------------------------------------------------

def test_resigned_tampering_of_the_length_header_is_an_illegal_buffer():
    raw = bytearray(base64.b64decode(v.V3_POST_ENCRYPT))
    raw[0] ^= 0x80  # CBC: flips the top bit of plaintext byte 16, the length header's first byte
    assert error_code(lambda: decrypt_signed(v3(), base64.b64encode(raw).decode())) == c.ILLEGAL_BUFFER


def test_resigned_tampering_of_the_last_block_breaks_the_padding():
    raw = bytearray(base64.b64decode(v.V3_POST_ENCRYPT))
    raw[-17] ^= 0x40  # flips a bit of the last plaintext byte: the pad value
    assert error_code(lambda: decrypt_signed(v3(), base64.b64encode(raw).decode())) == c.ILLEGAL_BUFFER


def test_wrong_key_is_rejected():
    other = WeComCrypto(v.V3_TOKEN, v.V1_AES_KEY, v.V3_RECEIVE_ID)
    assert error_code(lambda: other.decrypt(v.V3_POST_SIGNATURE, v.V3_POST_TIMESTAMP, v.V3_POST_NONCE,
                                            v.V3_POST_ENCRYPT)) == c.ILLEGAL_BUFFER


def test_wrong_token_is_a_signature_error():
    other = WeComCrypto("654321", v.V3_AES_KEY, v.V3_RECEIVE_ID)
    assert error_code(lambda: other.decrypt(v.V3_POST_SIGNATURE, v.V3_POST_TIMESTAMP, v.V3_POST_NONCE,
                                            v.V3_POST_ENCRYPT)) == c.SIGNATURE_ERROR


def test_wrong_receive_id_is_rejected():
    other = WeComCrypto(v.V3_TOKEN, v.V3_AES_KEY, "ww_some_other_corp")
    assert error_code(lambda: other.decrypt(v.V3_POST_SIGNATURE, v.V3_POST_TIMESTAMP, v.V3_POST_NONCE,
                                            v.V3_POST_ENCRYPT)) == c.RECEIVE_ID_MISMATCH


def test_receive_id_prefix_is_not_enough():
    other = WeComCrypto(v.V3_TOKEN, v.V3_AES_KEY, v.V3_RECEIVE_ID[:-1])
    assert error_code(lambda: other.decrypt(v.V3_POST_SIGNATURE, v.V3_POST_TIMESTAMP, v.V3_POST_NONCE,
                                            v.V3_POST_ENCRYPT)) == c.RECEIVE_ID_MISMATCH


def test_without_receive_id_the_caller_gets_it_to_check():
    crypto = WeComCrypto(v.V3_TOKEN, v.V3_AES_KEY)
    result = crypto.decrypt(v.V3_POST_SIGNATURE, v.V3_POST_TIMESTAMP, v.V3_POST_NONCE, v.V3_POST_ENCRYPT)
    assert result.receive_id == v.V3_RECEIVE_ID
    assert parse_xml(result.message)["Content"] == "test"


def test_encrypt_without_receive_id_is_refused():
    crypto = WeComCrypto(v.V3_TOKEN, v.V3_AES_KEY)
    with pytest.raises(WeComCryptoError, match="receive_id") as info:
        crypto.encrypt("hi", NONCE, TS)
    assert info.value.code == c.ENCRYPT_ERROR


@pytest.mark.parametrize("prefix", [b"", b"short", b"x" * 17])
def test_random_prefix_must_be_16_bytes(prefix):
    assert error_code(lambda: v3().encrypt("hi", NONCE, TS, prefix)) == c.ENCRYPT_ERROR


def test_unencodable_message_is_an_encrypt_error():
    assert error_code(lambda: v3().encrypt("\ud800", NONCE, TS)) == c.ENCRYPT_ERROR


# --- padding and buffer layout -------------------------------------------------------------------

RID = v.V3_RECEIVE_ID.encode()


def ending_with(tail: bytes) -> bytes:
    """A valid frame whose message is filled with spaces so that ``tail`` ends it on a 32-byte boundary."""
    message = b"<xml/>" + b" " * (-(len(frame(b"<xml/>", RID, tail))) % 32)
    return frame(message, RID, tail)


@pytest.mark.parametrize("tail", [
    pytest.param(b"\x00", id="pad-0"),
    pytest.param(b"\x21" * 33, id="pad-33"),
    pytest.param(b"\xff", id="pad-255"),
    pytest.param(b"\x04\x05\x05\x05\x05", id="pad-5-with-a-4"),
])
def test_bad_padding_is_an_illegal_buffer(tail):
    plain = ending_with(tail)
    assert error_code(lambda: decrypt_signed(v3(), raw_encrypt(v.V3_AES_KEY, plain))) == c.ILLEGAL_BUFFER


def test_the_bad_padding_helper_builds_valid_frames():
    """Guards the test above: with a correct pad the same frame decrypts, so only the pad is at fault."""
    assert decrypt_signed(v3(), raw_encrypt(v.V3_AES_KEY, ending_with(b"\x05" * 5))).message.rstrip() == "<xml/>"


def test_inconsistent_pad_bytes_are_an_illegal_buffer():
    body = frame(b"<xml/>", RID, b"")
    pad = 32 - len(body) % 32
    good = body + bytes([pad]) * pad
    assert decrypt_signed(v3(), raw_encrypt(v.V3_AES_KEY, good)).message == "<xml/>"
    bad = bytearray(good)
    bad[-2] ^= 0x01  # one pad byte disagrees with the pad value
    assert error_code(lambda: decrypt_signed(v3(), raw_encrypt(v.V3_AES_KEY, bytes(bad)))) == c.ILLEGAL_BUFFER


def test_pad_longer_than_the_buffer_is_an_illegal_buffer():
    plain = b"\x20" * 16  # a pad value of 32 in a 16-byte buffer
    assert error_code(lambda: decrypt_signed(v3(), raw_encrypt(v.V3_AES_KEY, plain))) == c.ILLEGAL_BUFFER


def test_buffer_shorter_than_the_header_is_an_illegal_buffer():
    plain = b"R" * 16 + b"\x10" * 16  # 16 random bytes, then only padding: no length header
    assert error_code(lambda: decrypt_signed(v3(), raw_encrypt(v.V3_AES_KEY, plain))) == c.ILLEGAL_BUFFER


def test_truncated_length_header_is_an_illegal_buffer():
    plain = b"R" * 16 + b"\x00\x00" + b"\x0e" * 14  # two of the four length bytes, then padding
    assert error_code(lambda: decrypt_signed(v3(), raw_encrypt(v.V3_AES_KEY, plain))) == c.ILLEGAL_BUFFER


def test_length_beyond_the_buffer_is_an_illegal_buffer():
    body = b"R" * 16 + (1000).to_bytes(4, "big") + b"<xml/>" + RID
    pad = 32 - len(body) % 32
    plain = body + bytes([pad]) * pad
    assert error_code(lambda: decrypt_signed(v3(), raw_encrypt(v.V3_AES_KEY, plain))) == c.ILLEGAL_BUFFER


def test_non_utf8_message_is_an_illegal_buffer():
    body = frame(b"\xff\xfe<xml/>", RID, b"")
    pad = 32 - len(body) % 32
    plain = body + bytes([pad]) * pad
    crypto = WeComCrypto(v.V3_TOKEN, v.V3_AES_KEY)
    assert error_code(lambda: decrypt_signed(crypto, raw_encrypt(v.V3_AES_KEY, plain))) == c.ILLEGAL_BUFFER


def test_non_utf8_receive_id_is_an_illegal_buffer_when_unchecked():
    body = frame(b"<xml/>", b"\xc3\x28", b"")
    pad = 32 - len(body) % 32
    plain = body + bytes([pad]) * pad
    crypto = WeComCrypto(v.V3_TOKEN, v.V3_AES_KEY)
    assert error_code(lambda: decrypt_signed(crypto, raw_encrypt(v.V3_AES_KEY, plain))) == c.ILLEGAL_BUFFER


def test_empty_message_with_receive_id_round_trips():
    crypto = v3()
    enc = crypto.encrypt("", NONCE, TS)
    assert crypto.decrypt(enc.signature, TS, NONCE, enc.encrypt) == c.Decrypted("", v.V3_RECEIVE_ID)


# --- base64 and ciphertext length ----------------------------------------------------------------

@pytest.mark.parametrize("encrypt", ["not base64!", "QUJDRA", "QU JD", "QUJD\n", "=QUJD", "QUJ=RA==", "中文",
                                     v.V3_POST_ENCRYPT.rstrip("=")])
def test_bad_base64_is_a_base64_decode_error(encrypt):
    assert error_code(lambda: decrypt_signed(v3(), encrypt)) == c.BASE64_DECODE_ERROR


@pytest.mark.parametrize("size", [0, 1, 15, 17, 31, 33])
def test_ciphertext_not_a_positive_multiple_of_16_is_a_decrypt_error(size):
    encrypt = base64.b64encode(b"\x00" * size).decode()
    assert error_code(lambda: decrypt_signed(v3(), encrypt)) == c.DECRYPT_ERROR


# --- the EncodingAESKey ---------------------------------------------------------------------------

@pytest.mark.parametrize("key", [v.V1_AES_KEY[:42], v.V1_AES_KEY + "A", "", "!" * 43,
                                 v.V1_AES_KEY[:40] + "===", v.V1_AES_KEY[:42] + "中", None])
def test_illegal_aes_keys_are_rejected(key):
    assert error_code(lambda: WeComCrypto("t", key, "r")) == c.ILLEGAL_AES_KEY


def test_aes_key_with_nonzero_trailing_bits_is_accepted_like_the_official_sdk():
    # 43 characters carry 258 bits; the SDKs ignore the last 2, and WeCom's console keys use them freely.
    crypto = WeComCrypto("t", v.V4_AES_KEY, v.V4_RECEIVE_ID)
    assert crypto.encrypt("x", NONCE, TS).signature


def test_error_carries_code_and_message():
    err = WeComCryptoError(c.SIGNATURE_ERROR, "nope")
    assert (err.code, err.message) == (-40001, "nope")
    assert "-40001" in str(err)


def test_official_codes():
    assert [c.SIGNATURE_ERROR, c.PARSE_XML_ERROR, c.COMPUTE_SIGNATURE_ERROR, c.ILLEGAL_AES_KEY,
            c.RECEIVE_ID_MISMATCH, c.ENCRYPT_ERROR, c.DECRYPT_ERROR, c.ILLEGAL_BUFFER, c.BASE64_ENCODE_ERROR,
            c.BASE64_DECODE_ERROR, c.BUILD_XML_ERROR] == list(range(-40001, -40012, -1))
