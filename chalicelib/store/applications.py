"""The applications table: account-opening applications (外部账号开通申请), their decision and their history.

One item per application, keyed tenantKey + applicationId. The id starts with the UTC time it was made
(`<yyyymmddThhmmssffffff>Z-<hex>`), so every listing is newest first by sorting on the key alone, and a date filter is
a key condition, never a scan of the tenant. The item carries its own history (applied, notified, decided, account
opened or its failure) as a list: an application's whole life is one GetItem.

Four sparse GSIs answer the back office's filters, each with the applicationId as range key (the same order and
cursor everywhere) and the list fields projected (the history and the activation link stay on the table):

    byStatus     statusKey    = <tenantKey>#<status>
    byApplicant  applicantKey = <tenantKey>#<userId>
    byDecider    deciderKey   = <tenantKey>#<userId>        set when someone approves or rejects
    byDimension  dimensionKey = <tenantKey>#<dimensionId>   what a dimension's maintainers may see

Every state change is a conditional write on `status` (or a transaction with the contact's `accountStatus`), so of
two concurrent deciders exactly one wins.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable

from pynamodb.attributes import ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection
from pynamodb.transactions import TransactWrite

from chalicelib.core import clock
from chalicelib.store.base import TableModel, Transaction, conditional_update, table_meta, transact

PENDING = "pending"  # waiting for an approver (the contact is 审批中)
APPROVING = "approving"  # approved; the account is being opened (or its opening failed and may be retried)
APPROVED = "approved"  # approved and the account opened
REJECTED = "rejected"  # rejected with a reason; the contact is back to 申请开通
CANCELLED = "cancelled"  # the contact was deleted before the application was decided
STATUSES = (PENDING, APPROVING, APPROVED, REJECTED, CANCELLED)

ID_TIME_FORMAT = "%Y%m%dT%H%M%S%fZ"
LIST_FIELDS = [
    "contactId", "contactName", "dimensionId", "status", "remark", "applicantId", "applicantName", "approvers",
    "decidedBy", "deciderName", "decidedAt", "reason", "appliedAt", "accountName",
]


def new_application_id(at: datetime) -> str:
    """Time first, so the key orders applications by when they were made; random after, so ids never collide."""
    return f"{at.strftime(ID_TIME_FORMAT)}-{secrets.token_hex(5)}"


def id_bound(at: datetime) -> str:
    """The key prefix of applications made at `at`: every id made at or after it sorts at or after it."""
    return at.strftime(ID_TIME_FORMAT)


class Event(MapAttribute):
    """One entry of an application's history."""

    at = UTCDateTimeAttribute()
    event = UnicodeAttribute()
    actor = UnicodeAttribute(null=True)
    note = UnicodeAttribute(null=True)
    users = ListAttribute(of=UnicodeAttribute, null=True)


class StatusIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "byStatus"
        projection = IncludeProjection(LIST_FIELDS)

    status_key = UnicodeAttribute(hash_key=True, attr_name="statusKey")
    application_id = UnicodeAttribute(range_key=True, attr_name="applicationId")


class ApplicantIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "byApplicant"
        projection = IncludeProjection(LIST_FIELDS)

    applicant_key = UnicodeAttribute(hash_key=True, attr_name="applicantKey")
    application_id = UnicodeAttribute(range_key=True, attr_name="applicationId")


class DeciderIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "byDecider"
        projection = IncludeProjection(LIST_FIELDS)

    decider_key = UnicodeAttribute(hash_key=True, attr_name="deciderKey")
    application_id = UnicodeAttribute(range_key=True, attr_name="applicationId")


class DimensionIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "byDimension"
        projection = IncludeProjection(LIST_FIELDS)

    dimension_key = UnicodeAttribute(hash_key=True, attr_name="dimensionKey")
    application_id = UnicodeAttribute(range_key=True, attr_name="applicationId")


class Application(TableModel):
    Meta = table_meta("applications")

    tenant_key = UnicodeAttribute(hash_key=True, attr_name="tenantKey")
    application_id = UnicodeAttribute(range_key=True, attr_name="applicationId")
    contact_id = UnicodeAttribute(attr_name="contactId")
    contact_name = UnicodeAttribute(null=True, attr_name="contactName")
    dimension_id = UnicodeAttribute(null=True, attr_name="dimensionId")
    status = UnicodeAttribute()
    remark = UnicodeAttribute(null=True)
    applicant_id = UnicodeAttribute(attr_name="applicantId")
    applicant_name = UnicodeAttribute(null=True, attr_name="applicantName")
    approvers = ListAttribute(of=UnicodeAttribute, default=list)
    applied_at = UTCDateTimeAttribute(attr_name="appliedAt")
    decided_by = UnicodeAttribute(null=True, attr_name="decidedBy")
    decider_name = UnicodeAttribute(null=True, attr_name="deciderName")
    decided_at = UTCDateTimeAttribute(null=True, attr_name="decidedAt")
    reason = UnicodeAttribute(null=True)
    account_name = UnicodeAttribute(null=True, attr_name="accountName")
    activation_url = UnicodeAttribute(null=True, attr_name="activationUrl")
    activation_expires_at = NumberAttribute(null=True, attr_name="activationExpiresAt")  # epoch seconds
    # While the account is being opened: who holds the opening (an attempt id) and until when (epoch seconds).
    opening_attempt = UnicodeAttribute(null=True, attr_name="openingAttempt")
    opening_until = NumberAttribute(null=True, attr_name="openingUntil")
    opening_error = UnicodeAttribute(null=True, attr_name="openingError")
    history = ListAttribute(of=Event, default=list)
    updated_at = UTCDateTimeAttribute(default=clock.utcnow, attr_name="updatedAt")

    status_key = UnicodeAttribute(attr_name="statusKey")
    applicant_key = UnicodeAttribute(attr_name="applicantKey")
    decider_key = UnicodeAttribute(null=True, attr_name="deciderKey")
    dimension_key = UnicodeAttribute(null=True, attr_name="dimensionKey")

    by_status = StatusIndex()
    by_applicant = ApplicantIndex()
    by_decider = DeciderIndex()
    by_dimension = DimensionIndex()


def _history_append(events: list[Event]):
    """SET history = list_append(history, :events): entries are added in one write with the change they record."""
    return Application.history.set(Application.history.append(events))


def group_key(tenant_key: str, value: str) -> str:
    return f"{tenant_key}#{value}"


def event(name: str, at: datetime, actor: str | None = None, note: str | None = None,
          users: Iterable[str] | None = None) -> Event:
    return Event(at=at, event=name, actor=actor, note=note, users=list(users) if users is not None else None)


def new_application(tenant_key: str, *, contact_id: str, contact_name: str | None, dimension_id: str | None,
                    remark: str | None, applicant_id: str, applicant_name: str | None, approvers: list[str],
                    at: datetime) -> Application:
    return Application(
        tenant_key,
        new_application_id(at),
        contact_id=contact_id,
        contact_name=contact_name,
        dimension_id=dimension_id,
        status=PENDING,
        remark=remark,
        applicant_id=applicant_id,
        applicant_name=applicant_name,
        approvers=approvers,
        applied_at=at,
        history=[event("applied", at, applicant_id, remark)],
        updated_at=at,
        status_key=group_key(tenant_key, PENDING),
        applicant_key=group_key(tenant_key, applicant_id),
        dimension_key=group_key(tenant_key, dimension_id) if dimension_id else None,
    )


def get(tenant_key: str, application_id: str) -> Application | None:
    try:
        return Application.get(tenant_key, application_id, consistent_read=True)
    except DoesNotExist:
        return None


def create_with_contact_pending(application: Application,
                                contact_write: Callable[[TransactWrite], None]) -> Transaction:
    """Store a new application together with its contact's side (`contact_write`: none → pending), both or neither
    (the one-pending guarantee: of concurrent applications exactly one finds the contact `none`). The application
    is the first action, the contact's side the second."""

    def build(transaction: TransactWrite) -> None:
        transaction.save(application, condition=Application.application_id.does_not_exist())
        contact_write(transaction)

    return transact(build)


def reject_with_contact_reset(tenant_key: str, application_id: str, decider_id: str, decider_name: str | None,
                              reason: str, at: datetime, contact_write: Callable[[TransactWrite], None]
                              ) -> Transaction:
    """pending → rejected together with its contact's side (`contact_write`: pending → none), both or neither: a
    rejected application never leaves its contact 审批中, so the applicant can always apply again. The application
    is the first action, the contact's side the second."""

    def build(transaction: TransactWrite) -> None:
        transaction.update(Application(tenant_key, application_id),
                           actions=rejection_actions(tenant_key, decider_id, decider_name, reason, at),
                           condition=Application.status == PENDING)
        contact_write(transaction)

    return transact(build)


def reject(tenant_key: str, application_id: str, decider_id: str, decider_name: str | None, reason: str,
           at: datetime) -> bool:
    """pending → rejected alone, for a contact that is no longer pending (deleted, or given an account directly)."""
    return conditional_update(Application(tenant_key, application_id),
                              rejection_actions(tenant_key, decider_id, decider_name, reason, at),
                              Application.status == PENDING)


def append_events(tenant_key: str, application_id: str, events: list[Event]) -> bool:
    """Add entries to the history; False when the application does not exist."""
    return conditional_update(
        Application(tenant_key, application_id),
        [_history_append(events), Application.updated_at.set(clock.utcnow())],
        Application.application_id.exists(),
    )


def rejection_actions(tenant_key: str, decider_id: str, decider_name: str | None, reason: str, at: datetime) -> list:
    return decision_actions(tenant_key, REJECTED, decider_id, decider_name, at,
                            [event("rejected", at, decider_id, reason)]) + [Application.reason.set(reason)]


def decision_actions(tenant_key: str, status: str, decider_id: str, decider_name: str | None, at: datetime,
                     events: list[Event]) -> list:
    return [
        Application.status.set(status),
        Application.status_key.set(group_key(tenant_key, status)),
        Application.decided_by.set(decider_id),
        Application.decider_name.set(decider_name) if decider_name else Application.decider_name.remove(),
        Application.decider_key.set(group_key(tenant_key, decider_id)),
        Application.decided_at.set(at),
        _history_append(events),
        Application.updated_at.set(at),
    ]


def claim_approval(tenant_key: str, application_id: str, decider_id: str, decider_name: str | None,
                   attempt: str, until: float, at: datetime) -> bool:
    """pending → approving, taking the opening for `attempt` until `until`; False when it was not pending."""
    actions = decision_actions(tenant_key, APPROVING, decider_id, decider_name, at,
                               [event("approved", at, decider_id)])
    actions += [Application.opening_attempt.set(attempt), Application.opening_until.set(until),
                Application.opening_error.remove()]
    return conditional_update(Application(tenant_key, application_id), actions, Application.status == PENDING)


def resume_opening(tenant_key: str, application_id: str, actor: str, attempt: str, until: float,
                   at: datetime) -> bool:
    """Take the opening of an approved application whose earlier attempt failed or ran out of time; False when it is
    not approving or another attempt holds it."""
    free = Application.opening_until.does_not_exist() | (Application.opening_until < at.timestamp())
    return conditional_update(
        Application(tenant_key, application_id),
        [
            Application.opening_attempt.set(attempt),
            Application.opening_until.set(until),
            _history_append([event("opening_retried", at, actor)]),
            Application.updated_at.set(at),
        ],
        (Application.status == APPROVING) & free,
    )


def release_opening(tenant_key: str, application_id: str, attempt: str, error: str, at: datetime) -> bool:
    """The attempt failed: record why and let the next approve call retry at once."""
    return conditional_update(
        Application(tenant_key, application_id),
        [
            Application.opening_until.remove(),
            Application.opening_attempt.remove(),
            Application.opening_error.set(error),
            _history_append([event("account_opening_failed", at, note=error)]),
            Application.updated_at.set(at),
        ],
        (Application.status == APPROVING) & (Application.opening_attempt == attempt),
    )


def finish_approval(tenant_key: str, application_id: str, attempt: str, account: dict, note: str | None,
                    at: datetime) -> bool:
    """approving → approved with the opened account; False when this attempt no longer holds the opening."""
    return conditional_update(
        Application(tenant_key, application_id),
        [
            Application.status.set(APPROVED),
            Application.status_key.set(group_key(tenant_key, APPROVED)),
            Application.account_name.set(account["accountName"]),
            _set_or_remove(Application.activation_url, account.get("activationUrl")),
            _set_or_remove(Application.activation_expires_at, account.get("activationExpiresAt")),
            Application.opening_until.remove(),
            Application.opening_attempt.remove(),
            Application.opening_error.remove(),
            _history_append([event("account_opened", at, note=note or account["accountName"])]),
            Application.updated_at.set(at),
        ],
        (Application.status == APPROVING) & (Application.opening_attempt == attempt),
    )


def cancel(tenant_key: str, application_id: str, actor: str, note: str, at: datetime) -> bool:
    """pending/approving → cancelled (the contact is gone); False when it was decided otherwise meanwhile."""
    return conditional_update(
        Application(tenant_key, application_id),
        [
            Application.status.set(CANCELLED),
            Application.status_key.set(group_key(tenant_key, CANCELLED)),
            Application.opening_until.remove(),
            Application.opening_attempt.remove(),
            _history_append([event("cancelled", at, actor, note)]),
            Application.updated_at.set(at),
        ],
        Application.status.is_in(PENDING, APPROVING),
    )


def _set_or_remove(attribute, value):
    return attribute.set(value) if value not in (None, "") else attribute.remove()


@dataclass(frozen=True)
class Source:
    """One Query that feeds a listing: the table or an index, its hash key, and the filter on what it returns."""

    index: Any  # the model (the table itself) or one of its indexes
    hash_attr: str
    hash_value: str
    filter: Any = None


def _filter(status: str | None = None, applicant_id: str | None = None, decider_id: str | None = None,
            dimension_ids: list[str] | None = None) -> Any:
    """The FilterExpression for what the chosen key does not already select (None: nothing to filter)."""
    parts = []
    if status:
        parts.append(Application.status == status)
    if applicant_id:
        parts.append(Application.applicant_id == applicant_id)
    if decider_id:
        parts.append(Application.decided_by == decider_id)
    if dimension_ids is not None:
        parts.append(Application.dimension_id.is_in(*dimension_ids))
    condition = None
    for part in parts:
        condition = part if condition is None else condition & part
    return condition


def sources(tenant_key: str, *, status: str | None, applicant_id: str | None, decider_id: str | None,
            dimension_ids: list[str] | None) -> list[Source]:
    """The Queries that list the applications matching these filters, `dimension_ids` None meaning every dimension.

    The key is the most selective filter given (applicant, then decider); a caller limited to some dimensions with
    neither reads each dimension's partition; then status; then the whole tenant. What the key does not select is
    a FilterExpression on the same Query.
    """
    if applicant_id:
        return [Source(Application.by_applicant, "applicantKey", group_key(tenant_key, applicant_id),
                       _filter(status, None, decider_id, dimension_ids))]
    if decider_id:
        return [Source(Application.by_decider, "deciderKey", group_key(tenant_key, decider_id),
                       _filter(status, None, None, dimension_ids))]
    if dimension_ids is not None:
        return [Source(Application.by_dimension, "dimensionKey", group_key(tenant_key, dimension_id), _filter(status))
                for dimension_id in dimension_ids]
    if status:
        return [Source(Application.by_status, "statusKey", group_key(tenant_key, status))]
    return [Source(Application, "tenantKey", tenant_key)]


def page(tenant_key: str, source_list: list[Source], limit: int, before: str | None, low: str | None,
         high: str | None) -> tuple[list[Application], str | None]:
    """One page (newest first) of what the sources list, older than `before`, made in [low, high), and the id
    after which the next page starts (None at the end)."""
    return merge([read_source(tenant_key, source, limit, before, low, high) for source in source_list], limit)


MAX_PAGES_PER_SOURCE = 5  # Query requests one listing call may spend per source before it answers with a cursor


@dataclass
class Read:
    """What one source gave: matching items (newest first) and how far down it was evaluated (None: to its end)."""

    items: list[Application]
    evaluated_to: str | None


def read_source(tenant_key: str, source: Source, limit: int, before: str | None, low: str | None,
                high: str | None) -> Read:
    """Up to `limit` matches of `source` older than `before` (newest first), within [low, high), spending at most
    MAX_PAGES_PER_SOURCE requests. With a filter a request may match nothing, hence the bound."""
    condition = None
    if low and high:
        condition = Application.application_id.between(low, high)  # ids never equal a bare time bound
    elif low:
        condition = Application.application_id >= low
    elif high:
        condition = Application.application_id < high
    start = None
    if before:
        start = {"tenantKey": {"S": tenant_key}, "applicationId": {"S": before}}
        if source.hash_attr != "tenantKey":
            start[source.hash_attr] = {"S": source.hash_value}
    page_size = limit if source.filter is None else min(200, limit * 4)
    results = source.index.query(
        source.hash_value, condition, filter_condition=source.filter, scan_index_forward=False,
        page_size=page_size, last_evaluated_key=start,
    )
    pages = results.page_iter
    found: list[Application] = []
    for _ in range(MAX_PAGES_PER_SOURCE):
        page = next(pages)
        found += [Application.from_raw_data(raw) for raw in page.get("Items", [])]
        last = pages.last_evaluated_key
        if len(found) > limit or (len(found) == limit and last):
            return Read(found[:limit], found[limit - 1].application_id)
        if not last:
            return Read(found, None)
    return Read(found, last["applicationId"]["S"])


def merge(reads: list[Read], limit: int) -> tuple[list[Application], str | None]:
    """One page out of several sources' reads, newest first, and the cursor after it.

    Each source was evaluated down to its `evaluated_to`; below the highest of those some source has not been read,
    so the page stops there. Sources are disjoint (different dimensions), so an id appears at most once.
    """
    bound = max((read.evaluated_to for read in reads if read.evaluated_to), default=None)
    items = sorted((item for read in reads for item in read.items), key=lambda i: i.application_id, reverse=True)
    if bound is not None:
        items = [item for item in items if item.application_id >= bound]
    page = items[:limit]
    if len(page) == limit and (bound is not None or len(items) > limit):
        return page, page[-1].application_id
    if len(page) == limit and bound is None:
        return page, None
    return page, bound
