"""The list of every table model: infra/ renders them, the local stack creates them, /healthz checks them."""
from __future__ import annotations

from pynamodb.models import Model

from chalicelib.store import (
    accounts,
    applications,
    audit,
    callback_events,
    contact_access,
    contacts,
    followers,
    invitations,
    login_throttle,
    members,
    messages,
    organisations,
    profile_links,
    roles,
    sessions,
    shares,
    sync_runs,
    tenants,
    wecom_state,
)


def all_models() -> list[type[Model]]:
    return [
        tenants.Tenant,
        callback_events.CallbackEvent,
        contacts.Contact,
        members.Member,
        wecom_state.WeComState,
        profile_links.ProfileLinkItem,
        contacts.CustomerFollow,
        organisations.Node,
        sync_runs.SyncItem,
        sessions.Session,
        roles.RoleGrant,
        accounts.AccountItem,
        login_throttle.Counter,
        contact_access.AccessEntry,
        audit.AuditEntry,
        applications.Application,
        invitations.InvitationItem,
        shares.ShareRow,
        followers.FollowerTableRow,
        messages.Thread,
    ]
