"""Finding a member of another organisation (添加其他组织成员), the first step of an invitation.

Finding someone takes two things together: the organisation's exact name (the team's or the corp's name) and the
person's exact name, mobile or email. Nothing is matched partially, at most `MAX_RESULTS` come back, an unknown
organisation and an unknown person give the same 404, and each member may search `config.org_search_per_minute()`
times a minute (a conditional counter item per caller and minute). Names are looked up in Yunqiao's own index
(`lookup`); mobiles and emails are asked of the other team's WeCom (`user/getuserid`,
`user/get_userid_by_email`), which holds them. A result carries a signed (readable, not encrypted), short-lived
*candidate* bound to the searching member: an invitation can only be sent to someone a search of that member found, so
invitations cannot be used to probe ids either.
"""
from __future__ import annotations

from datetime import timedelta

from chalicelib.auth.identity import Caller
from chalicelib.core import clock, config
from chalicelib.core.errors import BadRequest, NotFound, ServiceUnavailable, TooManyRequests
from chalicelib.core.observability import logger
from chalicelib.directory import validation
from chalicelib.invitations import lookup, tokens
from chalicelib.store import invitations as store
from chalicelib.store import members as member_store
from chalicelib.store.tenants import Tenant
from chalicelib.tenants.members import known_member
from chalicelib.tenants.wecom_clients import client_for_tenant
from chalicelib.wecom.errors import WeComApiError, WeComError

SEARCH_FIELDS = ("name", "mobile", "email")
MAX_RESULTS = 5
MAX_ORGANISATION_NAME = 100
CANDIDATE_SECONDS = 30 * 60
CORP_MAILBOX, OWN_EMAIL = 1, 2


def not_found() -> NotFound:
    """The one answer for an unknown organisation and an unknown person, so a search cannot tell them apart."""
    return NotFound("nobody with that name, mobile or email in an organisation of exactly that name",
                    code="org_member_not_found")


def _search_terms(body: dict) -> tuple[str, str, str]:
    """(organisation, field, value), validated: the organisation and exactly one of name, mobile, email."""
    validation.check_fields(body, ("organisation", *SEARCH_FIELDS))
    organisation = body.get("organisation")
    given = [field for field in SEARCH_FIELDS if body.get(field) not in (None, "")]
    if not isinstance(organisation, str) or not lookup.normalise(organisation) or len(given) != 1:
        raise BadRequest("give the organisation's exact name and exactly one of name, mobile or email",
                         code="search_terms_required")
    if len(organisation) > MAX_ORGANISATION_NAME:
        raise BadRequest(f"organisation is longer than {MAX_ORGANISATION_NAME} characters",
                         code="invalid_organisation")
    field = given[0]
    value = body[field]
    if field == "mobile":
        value = validation.mobile(value)
    elif field == "email":
        value = validation.email(value)
    else:
        value = validation.contact_fields({"name": value}, creating=True)["name"]
    return organisation, field, value


def _take_permit(caller: Caller) -> None:
    stamp = clock.utcnow()
    limit = config.org_search_per_minute()
    if not store.take_rate_permit(caller.tenant_key, caller.user_id, stamp.strftime("%Y%m%d%H%M"), limit,
                                  stamp + timedelta(minutes=2)):
        raise TooManyRequests(f"at most {limit} searches a minute: try again in a moment", code="rate_limited")


def _userid_from_wecom(tenant: Tenant, field: str, value: str) -> str | None:
    """Ask the other team's WeCom who has this mobile or email (corp mailbox first, then the member's own)."""
    client = client_for_tenant(tenant)
    attempts = [lambda: client.userid_by_mobile(value)] if field == "mobile" else [
        lambda: client.userid_by_email(value, CORP_MAILBOX), lambda: client.userid_by_email(value, OWN_EMAIL)]
    for attempt in attempts:
        try:
            return attempt()
        except WeComApiError as err:
            if not err.member_not_found:
                logger.warning("member lookup refused by WeCom", extra={"errcode": err.errcode})
                raise ServiceUnavailable("the other organisation's WeCom did not answer: try again later",
                                         code="wecom_unavailable") from err
        except WeComError as err:
            raise ServiceUnavailable("the other organisation's WeCom did not answer: try again later",
                                     code="wecom_unavailable") from err
    return None


def _members_of(tenant: Tenant, field: str, value: str) -> list[member_store.Member]:
    if field == "name":
        return lookup.members_named(tenant.tenant_key, value)
    user_id = _userid_from_wecom(tenant, field, value)
    member = known_member(tenant, user_id) if user_id else None
    return [member] if member is not None else []


def _candidate(caller: Caller, tenant: Tenant, member: member_store.Member) -> str:
    claims = {"t": caller.tenant_key, "u": caller.user_id, "pt": tenant.tenant_key, "pu": member.user_id}
    return tokens.sign(tokens.CANDIDATE, claims, int(clock.now()) + CANDIDATE_SECONDS)


def search(caller: Caller, body: dict) -> dict:
    """Members of another organisation matching exactly; 404 `org_member_not_found` when there are none."""
    organisation, field, value = _search_terms(body)
    _take_permit(caller)
    results = []
    for tenant in lookup.tenants_named(organisation, exclude=caller.tenant_key):
        for member in _members_of(tenant, field, value):
            results.append({"candidate": _candidate(caller, tenant, member), "name": member.name,
                            "organisation": tenant.name})
    if not results:
        raise not_found()
    return {"results": results[:MAX_RESULTS]}
