"""Account-opening applications (外部账号开通申请): a member asks for a contact's login, an approver decides.

The contact's account status moves 申请开通 (`none`) → 审批中 (`pending`) when someone applies, then to `opened`
when an approver approves (the accounts module opens the account and issues the activation link) or back to `none`
when one rejects, after which anyone who sees the contact may apply again.

Approvers are every holder of 外部互联维护 and every maintainer of the contact's dimension, looked up when the
application is made (they are notified) and checked again when someone decides. Admins decide only if they hold one
of those roles themselves; they can always give an account directly through the accounts routes.

Every transition is conditional, so concurrent actors cannot both win:
- apply: one transaction puts the application and moves the contact none → pending; of concurrent applications for
  one contact exactly one commits, the others are told the contact is 审批中.
- approve: pending → approving (the decision) is one conditional write; the account is opened after it and the
  application becomes approved. The opening is held by one attempt at a time (a lease), so a failed or timed-out
  opening is retried by calling approve again, and never runs twice at once: approval and account converge.
- reject: one transaction moves the application pending → rejected and the contact pending → none.
The loser of any race gets 409 naming the state the winner left.

Notifications (approvers on apply, the applicant on either decision) are queued, so WeCom being down or refusing
never blocks an application; whether they were queued is part of the application's history.
"""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

from chalicelib import accounts
from chalicelib.core import clock, cursors, paging
from chalicelib.directory import audit, contact_writes, permissions, validation
from chalicelib.directory.contacts import visible_contact
from chalicelib.core.errors import AppError, BadRequest, Conflict, Forbidden, NotFound, ServiceUnavailable
from chalicelib.auth.identity import Caller
from chalicelib.core.observability import logger
from chalicelib.notifications import queueing
from chalicelib.store import applications as store
from chalicelib.store import contacts as contact_store
from chalicelib.store import members as member_store
from chalicelib.store import roles
from chalicelib.store.tenants import Tenant
from chalicelib.tenants.urls import public_url

REMARK_MAX = 500
REASON_MAX = 500
OPENING_LEASE_SECONDS = 120  # an opening that neither finished nor failed in this time (a crash) may be retried
TRANSACTION_ATTEMPTS = 3  # a transaction cancelled only because another transaction held the contact is retried
DEFAULT_LIMIT, MAX_LIMIT = 20, 100
STATUS_LABELS = {
    store.PENDING: "审批中",
    store.APPROVING: "已通过，开通中",
    store.APPROVED: "已通过",
    store.REJECTED: "已驳回",
    store.CANCELLED: "已取消",
}
ACCOUNT_HELD = (contact_store.ACCOUNT_OPENED, contact_store.ACCOUNT_DISABLED)


class AccountOpeningFailed(ServiceUnavailable):
    """The approval stands but the account could not be opened yet; approving again retries the opening."""

    code = "account_opening_failed"


def application_url(tenant: Tenant, application_id: str) -> str:
    """Where a notification sends people: the back office's page of the application (账号安全 / 外部账号开通申请)."""
    path = f"/admin/account-applications/{quote(application_id)}?tenantKey={quote(tenant.tenant_key)}"
    return public_url(tenant, path)


def approvers_of(tenant_key: str, dimension_id: str | None) -> set[str]:
    """Every 外部互联维护 holder and every maintainer of the dimension (two Queries on the roles index)."""
    return set(roles.holders(tenant_key, roles.DIRECTORY_MAINTAINER)) | set(
        permissions.dimension_maintainers(tenant_key, dimension_id))


def is_approver(caller: Caller, dimension_id: str | None) -> bool:
    """Holds 外部互联维护 or maintains the dimension — explicitly: the admin role alone does not make an approver."""
    if roles.DIRECTORY_MAINTAINER in caller.roles:
        return True
    return bool(dimension_id) and roles.dimension_role(dimension_id) in caller.roles


def _member_name(tenant_key: str, user_id: str) -> str | None:
    member = member_store.get(tenant_key, user_id)
    return member.name if member else None


def _refuse_unless_none(contact: contact_store.Contact) -> None:
    status = contact.account_status or contact_store.ACCOUNT_NONE
    if status == contact_store.ACCOUNT_PENDING:
        raise Conflict("the contact already has a pending account application (审批中)", code="application_pending")
    if status in ACCOUNT_HELD:
        raise Conflict(f"the contact already has an account ({status})", code="account_exists")


def apply(tenant: Tenant, caller: Caller, contact_id: str, remark: object) -> dict:
    """Apply for the contact's account (申请开通 → 审批中) and notify its approvers."""
    remark = validation.text("remark", remark, limit=REMARK_MAX)
    contact = visible_contact(caller, contact_id)
    _refuse_unless_none(contact)
    tenant_key = caller.tenant_key
    approvers = sorted(approvers_of(tenant_key, contact.dimension_id) - {caller.user_id})
    for _ in range(TRANSACTION_ATTEMPTS):
        application = store.new_application(
            tenant_key, contact_id=contact.contact_id, contact_name=contact.name, dimension_id=contact.dimension_id,
            remark=remark, applicant_id=caller.user_id, applicant_name=_member_name(tenant_key, caller.user_id),
            approvers=approvers, at=clock.utcnow(),
        )
        outcome = contact_writes.move_account_status(
            tenant_key, contact.contact_id, contact_store.ACCOUNT_PENDING, (contact_store.ACCOUNT_NONE,),
            lambda contact_side: store.create_with_contact_pending(application, contact_side),
            at=application.applied_at,
        )
        if outcome:
            break
        current = contact_store.get(tenant_key, contact.contact_id)
        if current is None:
            raise NotFound("no such contact", code="contact_not_found")
        _refuse_unless_none(current)
    else:
        raise Conflict("the contact is being changed by someone else; try again", code="contact_busy")
    audit.record(tenant_key, contact.contact_id, caller.user_id, "account_applied",
                 {"accountStatus": contact_store.ACCOUNT_NONE},
                 {"accountStatus": contact_store.ACCOUNT_PENDING, "applicationId": application.application_id})
    sender = application.applicant_name or caller.user_id
    _notify(tenant, application.application_id, approvers, "notified",
            title="外部账号开通申请待审批",
            description=f"{sender} 申请为外部联系人「{contact.name}」开通外部账号。备注：{remark or '无'}")
    return describe(_get(tenant_key, application.application_id), caller, detail=True)


def _notify(tenant: Tenant, application_id: str, user_ids: list[str], event_name: str, *, title: str,
            description: str) -> None:
    """Queue a text card and note it in the history, or note that the queue refused it (the application itself
    has been recorded already)."""
    note = None if user_ids else "no one to notify"
    failure = queueing.notify_members(tenant.tenant_key, user_ids, title=title, description=description,
                                           url=application_url(tenant, application_id))
    if failure:
        event_name, note = "notification_failed", failure
    store.append_events(tenant.tenant_key, application_id,
                        [store.event(event_name, clock.utcnow(), note=note, users=user_ids)])


def _get(tenant_key: str, application_id: str) -> store.Application:
    application = store.get(tenant_key, application_id) if application_id else None
    if application is None:
        raise NotFound("no such account application", code="application_not_found")
    return application


def _not_decidable(application: store.Application) -> Conflict:
    """The 409 of a decision that lost: it names the state the application is in now."""
    status = application.status
    who = application.decider_name or application.decided_by
    if status == store.APPROVING:
        message = f"the application is approving: {who} approved it and its account is being opened"
    elif status in (store.APPROVED, store.REJECTED):
        message = f"the application is {status} (decided by {who})"
    else:
        message = f"the application is {status}"
    return Conflict(message, code="application_not_pending")


def _check_decider(caller: Caller, application: store.Application, contact: contact_store.Contact | None) -> None:
    if application.applicant_id == caller.user_id:
        raise Forbidden("you cannot decide your own application", code="own_application")
    dimension_id = contact.dimension_id if contact is not None else application.dimension_id
    if not is_approver(caller, dimension_id):
        raise Forbidden("only 外部互联维护 holders and the maintainers of the contact's dimension decide applications",
                        code="not_an_approver")


def approve(tenant: Tenant, caller: Caller, application_id: str) -> dict:
    """Approve and open the account; on an application whose opening failed or timed out, retry the opening."""
    tenant_key = caller.tenant_key
    application = _get(tenant_key, application_id)
    _check_decider(caller, application, contact_store.get(tenant_key, application.contact_id))
    attempt = secrets.token_hex(8)
    at = clock.utcnow()
    until = at.timestamp() + OPENING_LEASE_SECONDS
    claimed = application.status == store.PENDING and store.claim_approval(
        tenant_key, application_id, caller.user_id, _member_name(tenant_key, caller.user_id), attempt, until, at)
    if not claimed and not store.resume_opening(tenant_key, application_id, caller.user_id, attempt, until, at):
        raise _not_decidable(_get(tenant_key, application_id))
    return _open_account(tenant, caller, application_id, attempt)


def _open_account(tenant: Tenant, caller: Caller, application_id: str, attempt: str) -> dict:
    """The approved application's account: opened now, or the one the contact already has (opened by an earlier
    attempt that failed before recording it, or given directly by an admin meanwhile)."""
    tenant_key = caller.tenant_key
    application = _get(tenant_key, application_id)
    contact = contact_store.get(tenant_key, application.contact_id)
    if contact is None:
        store.cancel(tenant_key, application_id, caller.user_id, "the contact was deleted", clock.utcnow())
        raise NotFound("the contact no longer exists; the application was cancelled", code="contact_not_found")
    note = None
    if contact.account_status in ACCOUNT_HELD:
        account, note = _existing_account(contact)
    else:
        try:
            account = accounts.open_account(tenant, contact.contact_id, actor=caller.user_id)
        except Exception as err:
            current = contact_store.get(tenant_key, contact.contact_id)
            if current is not None and current.account_status in ACCOUNT_HELD:
                account, note = _existing_account(current)
            else:
                logger.exception("account opening failed", extra={"applicationId": application_id})
                cause = err.message if isinstance(err, AppError) else type(err).__name__
                store.release_opening(tenant_key, application_id, attempt, cause, clock.utcnow())
                raise AccountOpeningFailed(
                    f"the application is approved but the account could not be opened ({cause}); "
                    "approve it again to retry") from err
    if not store.finish_approval(tenant_key, application_id, attempt, account, note, clock.utcnow()):
        raise _not_decidable(_get(tenant_key, application_id))
    audit.record(tenant_key, contact.contact_id, caller.user_id, "account_approved",
                 {"accountStatus": contact.account_status},
                 {"accountStatus": contact_store.ACCOUNT_OPENED, "accountName": account["accountName"],
                  "applicationId": application_id})
    decider = application.decider_name or application.decided_by
    _notify(tenant, application_id, [application.applicant_id], "applicant_notified",
            title="外部账号开通申请已通过",
            description=f"「{application.contact_name}」的外部账号已开通（账号 {account['accountName']}），"
                        f"审批人：{decider}。")
    return describe(_get(tenant_key, application_id), caller, detail=True)


def _existing_account(contact: contact_store.Contact) -> tuple[dict, str]:
    return ({"accountName": contact.account_name or "", "activationUrl": None, "activationExpiresAt": None},
            "the contact already had an account; its activation link, if any, was issued before")


def reject(tenant: Tenant, caller: Caller, application_id: str, reason: object) -> dict:
    """Reject with a reason; the contact goes back to 申请开通 and may be applied for again."""
    reason = validation.text("reason", reason, limit=REASON_MAX, required=True)
    tenant_key = caller.tenant_key
    application = _get(tenant_key, application_id)
    contact = contact_store.get(tenant_key, application.contact_id)
    _check_decider(caller, application, contact)
    name = _member_name(tenant_key, caller.user_id)
    reset = True
    for _ in range(TRANSACTION_ATTEMPTS):
        at = clock.utcnow()
        outcome = contact_writes.move_account_status(
            tenant_key, application.contact_id, contact_store.ACCOUNT_NONE, (contact_store.ACCOUNT_PENDING,),
            lambda contact_side: store.reject_with_contact_reset(tenant_key, application_id, caller.user_id, name,
                                                                 reason, at, contact_side),
            at=at,
        )
        if outcome:
            break
        if outcome.failed[0]:
            raise _not_decidable(_get(tenant_key, application_id))
        if outcome.failed[1]:
            # The contact is not 审批中 any more (deleted, or given an account directly): reject the application alone.
            if not store.reject(tenant_key, application_id, caller.user_id, name, reason, clock.utcnow()):
                raise _not_decidable(_get(tenant_key, application_id))
            reset = False
            break
    else:
        raise Conflict("the contact is being changed by someone else; try again", code="contact_busy")
    if reset:
        audit.record(tenant_key, application.contact_id, caller.user_id, "account_rejected",
                     {"accountStatus": contact_store.ACCOUNT_PENDING},
                     {"accountStatus": contact_store.ACCOUNT_NONE, "applicationId": application_id,
                      "reason": reason})
    decider = name or caller.user_id
    _notify(tenant, application_id, [application.applicant_id], "applicant_notified",
            title="外部账号开通申请未通过",
            description=f"「{application.contact_name}」的外部账号开通申请被 {decider} 驳回：{reason}。可以重新申请。")
    return describe(_get(tenant_key, application_id), caller, detail=True)


def _may_manage(caller: Caller, application: store.Application) -> bool:
    """Admins, 外部互联维护 holders and the maintainers of the application's dimension: they see everything of it,
    the activation link included (they hand it to the contact)."""
    return caller.is_directory_maintainer or (
        bool(application.dimension_id) and application.dimension_id in caller.maintained_dimensions())


def get_application(caller: Caller, application_id: str) -> dict:
    """One application with its history, for those who manage it and for its applicant; 404 for anyone else."""
    application = _get(caller.tenant_key, application_id)
    if not _may_manage(caller, application) and application.applicant_id != caller.user_id:
        raise NotFound("no such account application", code="application_not_found")
    return describe(application, caller, detail=True)


_CURSOR_ID = re.compile(r"^\d{8}T\d{12}Z-[0-9a-f]{10}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _cursor_scope(tenant_key: str) -> str:
    return f"account-applications:{tenant_key}"


def _decode_cursor(tenant_key: str, cursor: str | None) -> str | None:
    """The application id to continue after (None for the first page); 400 `invalid_cursor` for anything else."""
    value = cursors.decode_one(cursor, "", scope=_cursor_scope(tenant_key))
    if value is not None and not _CURSOR_ID.match(value):
        raise cursors.invalid()
    return value


def _instant(value: str | None, field: str, *, end: bool) -> str | None:
    """A date (YYYY-MM-DD, UTC; `to` takes the whole day) or an ISO 8601 instant, as a bound on application ids."""
    if not value:
        return None
    try:
        if _DATE.match(value):
            at = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=timezone.utc)
            if end:
                at += timedelta(days=1)
        else:
            at = datetime.fromisoformat(value.replace("Z", "+00:00"))
            at = (at if at.tzinfo else at.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
            if end:
                at += timedelta(microseconds=1)
    except ValueError:
        raise BadRequest(f"{field} must be a date (YYYY-MM-DD) or an ISO 8601 time", code=f"invalid_{field}")
    return store.id_bound(at)


def list_applications(caller: Caller, params: dict) -> dict:
    """The back office list (账号安全 / 外部账号开通申请), newest first, filtered by status, applicant, approver (the
    member who decided) and dates, one page per call.

    Admins and 外部互联维护 holders see every application, a dimension's maintainers those of their dimensions;
    anyone may list their own (`applicant` = themselves). Everyone else gets 403.
    """
    status = params.get("status") or None
    if status is not None and status not in store.STATUSES:
        raise BadRequest(f"status must be one of {', '.join(store.STATUSES)}", code="invalid_status")
    applicant = params.get("applicant") or None
    approver = params.get("approver") or None
    if caller.is_directory_maintainer or applicant == caller.user_id:
        dimensions = None
    elif caller.maintained_dimensions():
        dimensions = sorted(caller.maintained_dimensions())
    else:
        raise Forbidden("only admins, 外部互联维护 holders and dimension maintainers see the applications",
                        code="forbidden")
    low = _instant(params.get("from"), "from", end=False)
    high = _instant(params.get("to"), "to", end=True)
    limit = paging.page_size(params.get("limit"), default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    before = _decode_cursor(caller.tenant_key, params.get("cursor"))
    sources = store.sources(caller.tenant_key, status=status, applicant_id=applicant, decider_id=approver,
                            dimension_ids=dimensions)
    items, after = store.page(caller.tenant_key, sources, limit, before, low, high)
    next_cursor = cursors.encode_one(after, scope=_cursor_scope(caller.tenant_key)) if after else None
    return {"items": [describe(item, caller, detail=False) for item in items], "nextCursor": next_cursor}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def describe(application: store.Application, caller: Caller, *, detail: bool) -> dict:
    """The JSON of an application. The activation link only for those who manage it; the history in detail only."""
    decided = application.decided_by is not None
    account = None
    if application.account_name:
        account = {"accountName": application.account_name}
        if detail and _may_manage(caller, application):
            account["activationUrl"] = application.activation_url
            expires = application.activation_expires_at
            account["activationExpiresAt"] = int(expires) if expires is not None else None
    shaped = {
        "applicationId": application.application_id,
        "contactId": application.contact_id,
        "contactName": application.contact_name,
        "dimensionId": application.dimension_id,
        "status": application.status,
        "statusLabel": STATUS_LABELS.get(application.status, application.status),
        "remark": application.remark,
        "applicant": {"userId": application.applicant_id, "name": application.applicant_name},
        "appliedAt": _iso(application.applied_at),
        "approvers": list(application.approvers or []),
        "decision": {
            "userId": application.decided_by,
            "name": application.decider_name,
            "at": _iso(application.decided_at),
            "reason": application.reason,
        } if decided else None,
        "account": account,
    }
    if detail:
        shaped["openingError"] = application.opening_error
        shaped["history"] = [
            {"at": _iso(entry.at), "event": entry.event, "actor": entry.actor, "note": entry.note,
             "users": list(entry.users) if entry.users is not None else None}
            for entry in application.history or []
        ]
    return shaped
