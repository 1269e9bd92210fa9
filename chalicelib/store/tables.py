"""The list of every table model: infra/ renders them, the local stack creates them, /healthz checks them."""
from __future__ import annotations

from pynamodb.models import Model


def all_models() -> list[type[Model]]:
    from chalicelib.store import tenants, wecom_state

    return [
        tenants.Tenant,
        wecom_state.WeComState,
    ]
