"""The checks every contact write goes through, whichever door it came in by (routes, invitations, other tenants,
the contact's own edits), and the free-text rule other forms share (`text`).

Input uses the API's camelCase names. A bad value is a 400 with a code naming the problem, raised before anything
is written.
"""
from __future__ import annotations

import re

from chalicelib.core.errors import BadRequest

MOBILE = re.compile(r"^(?:1[3-9]\d{9}|\+[1-9]\d{6,14})$")  # mainland China, or +<country code><number>
EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
LIMITS = {"name": 64, "position": 64, "remark": 500, "email": 254, "externalUserId": 128, "unionid": 128,
          "openid": 128, "organisationId": 128, "departmentId": 128, "peerTenantKey": 64, "peerUserId": 128}
SECURITY_MIN, SECURITY_MAX = -999, 0
# The fields people may write (create and edit); the rest of a contact is Yunqiao's or WeCom's.
EDITABLE = ("name", "mobile", "email", "organisationId", "departmentId", "position", "remark", "securityLevel")
# Fields other doors (invitations, other organisations) may also set when they create a contact.
IDENTITY = ("externalUserId", "unionid", "openid", "peerTenantKey", "peerUserId")
MAX_MEMBERS = 200  # visible members or share-list entries of one contact


def check_fields(body: object, allowed: tuple[str, ...]) -> None:
    """A request body is a JSON object of known fields only, so a typo is refused rather than silently ignored."""
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object", code="invalid_body")
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise BadRequest(f"unknown fields: {', '.join(unknown)}", code="unknown_field")


def text(field: str, value: object, *, limit: int, required: bool = False) -> str | None:
    """A free-text field trimmed and at most `limit` characters; blank means absent (None), or 400 when required.

    Contacts' text fields and account applications' remark and reason share it, so both forms trim, limit and refuse
    (400 `invalid_<field>`) alike."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise BadRequest(f"{field} is required", code=f"invalid_{_snake(field)}")
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{field} must be a string", code=f"invalid_{_snake(field)}")
    value = value.strip()
    if len(value) > limit:
        raise BadRequest(f"{field} is longer than {limit} characters", code=f"invalid_{_snake(field)}")
    return value


def _snake(field: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", field).lower()


def mobile(value: object) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or len(value) > 32:
        raise BadRequest("mobile must be a string of at most 32 characters", code="invalid_mobile")
    compact = re.sub(r"[\s-]", "", value)
    if not MOBILE.match(compact):
        raise BadRequest("mobile must be a mainland number (1[3-9] and 9 digits) or +<country code><number>",
                         code="invalid_mobile")
    return compact


def email(value: object) -> str | None:
    address = text("email", value, limit=LIMITS["email"])
    if address is None:
        return None
    if not EMAIL.match(address):
        raise BadRequest("email is not a valid address", code="invalid_email")
    return address.lower()


def security_level(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest("securityLevel must be an integer", code="invalid_security_level")
    if not SECURITY_MIN <= value <= SECURITY_MAX:
        raise BadRequest(f"securityLevel must be between {SECURITY_MIN} and {SECURITY_MAX}",
                         code="invalid_security_level")
    return value


def contact_fields(body: dict, *, creating: bool, allowed: tuple[str, ...] = EDITABLE) -> dict:
    """The validated, normalised fields of `body` (camelCase keys, only those present; None clears a field).

    Creating requires a name. Unknown fields are refused, so a typo is not silently ignored.
    """
    if not isinstance(body, dict):
        raise BadRequest("the contact must be a JSON object", code="invalid_body")
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise BadRequest(f"unknown or read-only fields: {', '.join(unknown)}", code="unknown_field")
    clean: dict = {}
    for field, value in body.items():
        if field == "mobile":
            clean[field] = mobile(value)
        elif field == "email":
            clean[field] = email(value)
        elif field == "securityLevel":
            clean[field] = security_level(value)
        else:
            clean[field] = text(field, value, limit=LIMITS[field], required=field == "name")
    if creating and not clean.get("name"):
        raise BadRequest("name is required", code="invalid_name")
    return clean


def user_ids(value: object, field: str) -> list[str]:
    """A list of distinct member userids, in the order given."""
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise BadRequest(f"{field} must be a list of member userids", code=f"invalid_{_snake(field)}")
    ids = list(dict.fromkeys(item.strip() for item in value))
    if len(ids) > MAX_MEMBERS or any(len(item) > 64 or "#" in item for item in ids):
        raise BadRequest(f"{field}: at most {MAX_MEMBERS} userids of at most 64 characters",
                         code=f"invalid_{_snake(field)}")
    return ids


def share_list(value: object) -> dict[str, dict]:
    """`{userid: {"permission": "view" | "edit"}}`."""
    if not isinstance(value, dict):
        raise BadRequest('shareList must be an object {userId: {"permission": "view"|"edit"}}',
                         code="invalid_share_list")
    user_ids(list(value), "shareList")
    clean = {}
    for user_id, entry in value.items():
        permission = entry.get("permission") if isinstance(entry, dict) else None
        if permission not in ("view", "edit"):
            raise BadRequest(f"shareList.{user_id}.permission must be view or edit", code="invalid_share_list")
        clean[user_id.strip()] = {"permission": permission}
    return clean
