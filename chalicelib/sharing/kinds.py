"""What a shareable item is: its kinds, the page's sections, the checks on what internal callers register, and the
JSON an external contact sees of it.

An item is rendered once, when it is registered or updated, and that rendering is what every sharer's feed row
holds; the home shows a shorter card of it. The contract with the mobile page:
`{itemId, kind, title, summary, status, owner: {userId, name}, url, updatedAt, sharedAt, form?, values?}`.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from chalicelib.core import clock
from chalicelib.core.errors import BadRequest, NotFound
from chalicelib.store.shares import plain

KINDS = ("project", "task", "approval", "form", "form_record", "document", "schedule", "crm_record")
KIND_LABELS = {"project": "项目", "task": "任务", "approval": "审批", "form": "表单", "form_record": "表单记录",
               "document": "文档", "schedule": "日程", "crm_record": "CRM"}
# The page's sections, in page order: key, label, kinds.
SECTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("tasks", "项目任务", ("project", "task")),
    ("approvals", "审批", ("approval",)),
    ("forms", "表单", ("form", "form_record")),
    ("documents", "文档", ("document",)),
    ("schedules", "日程", ("schedule",)),
    ("crm", "CRM", ("crm_record",)),
)
FORM_KINDS = ("form", "form_record")
FIELD_TYPES = ("text", "textarea", "number", "date", "select")
PERMISSIONS = ("view", "edit")

ITEM_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")  # never '#': ids are parts of keys
FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
USER_ID = re.compile(r"^[^#\s]{1,64}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TITLE_MAX, SUMMARY_MAX, STATUS_MAX, URL_MAX = 200, 2000, 40, 2000
CARD_SUMMARY = 140  # what the home shows of a summary
FIELDS_MAX, OPTIONS_MAX, LABEL_MAX, MEMBERS_MAX = 50, 50, 100, 200
TEXT_MAX, TEXTAREA_MAX = 500, 5000
COMMENT_MAX = 2000


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise NotFound(f"unknown item kind {kind!r}: one of {', '.join(KINDS)}", code="unknown_kind")
    return kind


def check_item_id(item_id: str) -> str:
    if not ITEM_ID.match(item_id or ""):
        raise BadRequest("itemId must be 1-128 letters, digits or . _ : -", code="invalid_item_id")
    return item_id


def section_kinds(section: str) -> tuple[str, ...]:
    for key, _label, kinds in SECTIONS:
        if key == section:
            return kinds
    raise BadRequest(f"unknown section {section!r}: one of {', '.join(key for key, _, _ in SECTIONS)}",
                     code="unknown_section")


def _text(body: dict, field: str, limit: int, *, required: bool = False) -> str | None:
    value = body.get(field)
    if value is None or value == "":
        if required:
            raise BadRequest(f"{field} is required", code=f"invalid_{field}")
        return None
    if not isinstance(value, str) or len(value.strip()) == 0 or len(value) > limit:
        raise BadRequest(f"{field} must be a string of at most {limit} characters", code=f"invalid_{field}")
    return value.strip()


def _timestamp(value: Any) -> str:
    """An ISO 8601 time with a zone, normalised to UTC; now when absent."""
    if value in (None, ""):
        return clock.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise BadRequest("updatedAt must be an ISO 8601 time with a zone, e.g. 2025-03-01T08:00:00Z",
                         code="invalid_updatedAt")
    return parsed.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _url(value: Any) -> str | None:
    url = _text({"url": value}, "url", URL_MAX)
    if url is not None and not url.startswith(("https://", "http://")):
        raise BadRequest("url must be an absolute http(s) URL", code="invalid_url")
    return url


def form_fields(value: Any) -> list[dict]:
    """A form's fields: `[{name, label, type, required, options?}]`, names unique."""
    fields = value.get("fields") if isinstance(value, dict) else None
    if not isinstance(fields, list) or not 1 <= len(fields) <= FIELDS_MAX:
        raise BadRequest(f"form.fields must be a list of 1-{FIELDS_MAX} fields", code="invalid_form")
    cleaned, names = [], set()
    for field in fields:
        if not isinstance(field, dict):
            raise BadRequest("each form field must be an object", code="invalid_form")
        name, label, kind = field.get("name"), field.get("label"), field.get("type", "text")
        if not isinstance(name, str) or not FIELD_NAME.match(name) or name in names:
            raise BadRequest(f"form field name {name!r} must be unique, a letter then letters, digits or _",
                             code="invalid_form")
        if not isinstance(label, str) or not 0 < len(label) <= LABEL_MAX:
            raise BadRequest(f"form field {name}: label must be 1-{LABEL_MAX} characters", code="invalid_form")
        if kind not in FIELD_TYPES:
            raise BadRequest(f"form field {name}: type must be one of {', '.join(FIELD_TYPES)}", code="invalid_form")
        entry: dict[str, Any] = {"name": name, "label": label, "type": kind, "required": bool(field.get("required"))}
        if kind == "select":
            options = field.get("options")
            valid = isinstance(options, list) and 1 <= len(options) <= OPTIONS_MAX and all(
                isinstance(o, str) and 0 < len(o) <= LABEL_MAX for o in options)
            if not valid or len(set(options)) != len(options):
                raise BadRequest(f"form field {name}: options must be 1-{OPTIONS_MAX} distinct strings",
                                 code="invalid_form")
            entry["options"] = list(options)
        names.add(name)
        cleaned.append(entry)
    return cleaned


def _members(value: Any) -> dict[str, str]:
    """The internal members an item is shared with in its own module: userid → "view" | "edit"."""
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > MEMBERS_MAX or not all(
            isinstance(user, str) and USER_ID.match(user) and permission in PERMISSIONS
            for user, permission in value.items()):
        raise BadRequest(f"members must map at most {MEMBERS_MAX} userids to view or edit", code="invalid_members")
    return dict(value)


def item_fields(kind: str, body: dict) -> dict[str, Any]:
    """The stored fields of an item from a registration body (PUT): validated, with the kind's extras."""
    fields: dict[str, Any] = {
        "title": _text(body, "title", TITLE_MAX, required=True),
        "summary": _text(body, "summary", SUMMARY_MAX),
        "status": _text(body, "status", STATUS_MAX),
        "url": _url(body.get("url")),
        "updated_at": _timestamp(body.get("updatedAt")),
        "members": _members(body.get("members")),
        "form": None,
        "values": None,
    }
    if kind in FORM_KINDS and body.get("form") is not None:
        fields["form"] = {"fields": form_fields(body["form"])}
    elif body.get("form") is not None:
        raise BadRequest("only forms and form records carry form fields", code="invalid_form")
    if kind == "form" and fields["form"] is None:
        raise BadRequest("a form needs form.fields (what the contact fills in)", code="invalid_form")
    if body.get("values") is not None:
        fields["values"] = _record_values(kind, fields["form"], body["values"])
    return fields


def _record_values(kind: str, form: dict | None, values: Any) -> dict[str, Any]:
    """A form record's values: checked against its form's fields when it carries them, else plain names → text or
    numbers."""
    if kind != "form_record" or not isinstance(values, dict):
        raise BadRequest("values (an object) belong to form records only", code="invalid_values")
    if form is not None:
        return submission_values(form["fields"], values)
    if len(values) > FIELDS_MAX or not all(
            isinstance(name, str) and FIELD_NAME.match(name) and not isinstance(value, bool)
            and isinstance(value, (str, int, float)) and len(str(value)) <= TEXTAREA_MAX
            for name, value in values.items()):
        raise BadRequest(f"values must map at most {FIELDS_MAX} field names to text or numbers",
                         code="invalid_values")
    return dict(values)


def _value(field: dict, raw: Any) -> str | int | float:
    kind, name = field["type"], field["name"]
    if kind == "number":
        if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
            raise BadRequest(f"{field['label']}（{name}）必须是数字", code="invalid_submission")
        try:
            number = float(raw)
        except ValueError:
            raise BadRequest(f"{field['label']}（{name}）必须是数字", code="invalid_submission") from None
        if number != number or abs(number) > 1e15:
            raise BadRequest(f"{field['label']}（{name}）超出范围", code="invalid_submission")
        return int(number) if number.is_integer() else number
    if not isinstance(raw, str):
        raise BadRequest(f"{field['label']}（{name}）必须是文本", code="invalid_submission")
    text = raw.strip()
    if kind == "date":
        try:
            datetime.strptime(text, "%Y-%m-%d")
        except ValueError:
            raise BadRequest(f"{field['label']}（{name}）必须是日期 YYYY-MM-DD", code="invalid_submission") from None
        return text
    if kind == "select":
        if text not in field["options"]:
            raise BadRequest(f"{field['label']}（{name}）必须是选项之一：{'、'.join(field['options'])}",
                             code="invalid_submission")
        return text
    limit = TEXTAREA_MAX if kind == "textarea" else TEXT_MAX
    if len(text) > limit:
        raise BadRequest(f"{field['label']}（{name}）最多 {limit} 个字", code="invalid_submission")
    return text


def submission_values(fields: list[dict], values: Any) -> dict[str, Any]:
    """A contact's answers checked against the form: known fields only, required ones present, each of its type."""
    if not isinstance(values, dict):
        raise BadRequest("values must be an object of field name → value", code="invalid_submission")
    known = {field["name"]: field for field in fields}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise BadRequest(f"unknown fields: {', '.join(map(str, unknown))}", code="invalid_submission")
    cleaned: dict[str, Any] = {}
    for name, field in known.items():
        raw = values.get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if field.get("required"):
                raise BadRequest(f"{field['label']}（{name}）必填", code="invalid_submission")
            continue
        cleaned[name] = _value(field, raw)
    return cleaned


def comment_text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadRequest("text is required", code="invalid_text")
    if len(value) > COMMENT_MAX:
        raise BadRequest(f"text must be at most {COMMENT_MAX} characters", code="invalid_text")
    return value.strip()


# --- what contacts see --------------------------------------------------------------------------------------------
def render(item: Any) -> dict[str, Any]:
    """The item as every sharer sees it (without sharedAt, which is each sharer's own); None values left out."""
    shown: dict[str, Any] = {
        "itemId": item.item_id,
        "kind": item.kind,
        "title": item.title,
        "summary": item.summary,
        "status": item.status,
        "owner": {"userId": item.owner_id, "name": item.owner_name or item.owner_id},
        "url": item.url,
        "updatedAt": item.updated_at,
    }
    if item.form is not None:
        shown["form"] = _plain(item.form)
    if item.values is not None:
        shown["values"] = _plain(item.values)
    return {key: value for key, value in shown.items() if value is not None}


def _plain(value: Any) -> Any:
    return plain(value)


SHOWN_KEYS = ("itemId", "kind", "title", "summary", "status", "owner", "url", "updatedAt", "sharedAt")


def public(rendered: Any, shared_at: str, *, card: bool = False) -> dict[str, Any]:
    """The item JSON of the contract, from a stored rendering: every key present (null when unknown); a card (the
    home) leaves out form and values and shortens the summary."""
    stored = _plain(rendered)
    shown = {key: stored.get(key) for key in SHOWN_KEYS}
    shown["sharedAt"] = shared_at
    if card:
        summary = shown.get("summary")
        if summary and len(summary) > CARD_SUMMARY:
            shown["summary"] = summary[:CARD_SUMMARY - 1] + "…"
        return shown
    for key in ("form", "values"):
        if key in stored:
            shown[key] = stored[key]
    return shown
