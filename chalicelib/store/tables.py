"""The list of every table model: infra/ renders them, the local stack creates them, /healthz checks them."""
from __future__ import annotations

from pynamodb.models import Model


def all_models() -> list[type[Model]]:
    from chalicelib.store import (
        callback_events,
        contacts,
        members,
        organisations,
        profile_links,
        roles,
        sessions,
        sync_runs,
        tenants,
        wecom_state,
    )

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
    ]
