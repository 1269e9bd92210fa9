"""The pure planning of a run: members in follow-index order cut into batches with the key ranges they own, pages of
work, and WeCom's 上下游 chains, groups and corps as organisation nodes."""
from __future__ import annotations

from bisect import bisect_right
from itertools import islice
from typing import Iterable, Iterator, TypeVar

from chalicelib.store import organisations
from chalicelib.store.organisations import NodeSpec
from chalicelib.store.tenants import Tenant
from chalicelib.wecom.client import BATCH_USERS

T = TypeVar("T")


def member_order(userid: str) -> str:
    """A member's place in the follow index: its relations are the keys `<userid>#…`, so members sort by `<userid>#`.
    For WeCom's userid characters (letters, digits, `_-.@`, all after `#`) that is the userids' own order; sorting by
    the key prefix keeps batches and key ranges consistent whatever the characters (any but `#`)."""
    return f"{userid}#"


def next_batch(follow_users: list[str], after: str | None, size: int = BATCH_USERS) -> tuple[list[str], bool]:
    """The next ≤ `size` members after `after` in member order (`follow_users` sorted by `member_order`), and
    whether no member follows them."""
    start = 0 if after is None else bisect_right([member_order(u) for u in follow_users], member_order(after))
    batch = follow_users[start : start + size]
    return batch, start + size >= len(follow_users)


def relation_bounds(after: str | None, last: str | None, is_last: bool) -> tuple[str | None, str | None]:
    """The follow-index key range a batch owns: after the previous batch's last member, up to and including its own
    last member's keys (`<u>#…` < `<u>$` < any later member's keys); the final batch owns everything after it.
    Together the batches of a run tile the whole index, so relations of members who are no longer follow users
    fall in some batch's range."""
    low = f"{after}$" if after is not None else None
    high = None if is_last or last is None else f"{last}$"
    return low, high


def pages(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


# --- 上下游 nodes (pure) ------------------------------------------------------------------------------------------
def chain_dimension(tenant: Tenant) -> NodeSpec:
    return NodeSpec(
        organisations.CHAIN_DIMENSION_ID,
        organisations.DIMENSION,
        tenant.settings.chain_dimension_name,
        None,
        organisations.CHAIN_DIMENSION_ID,
        organisations.SOURCE_WECOM_CHAIN,
    )


def chain_nodes(chain: dict, groups: list[dict]) -> list[NodeSpec]:
    """A chain and its groups, each group under its parent group (or the chain for top-level groups)."""
    chain_id = chain["chain_id"]
    chain_node = organisations.chain_node_id(chain_id)
    group_ids = {int(group["groupid"]) for group in groups}
    specs = [
        NodeSpec(chain_node, organisations.GROUP, chain.get("chain_name") or chain_id, organisations.CHAIN_DIMENSION_ID,
                 organisations.CHAIN_DIMENSION_ID, organisations.SOURCE_WECOM_CHAIN, {"chain_id": chain_id})
    ]
    for group in groups:
        parent = int(group.get("parentid") or 0)
        specs.append(NodeSpec(
            organisations.chain_group_id(chain_id, int(group["groupid"])),
            organisations.GROUP,
            group.get("group_name") or str(group["groupid"]),
            organisations.chain_group_id(chain_id, parent) if parent in group_ids else chain_node,
            organisations.CHAIN_DIMENSION_ID,
            organisations.SOURCE_WECOM_CHAIN,
            {"chain_id": chain_id, "groupid": int(group["groupid"]), "order": int(group.get("order") or 0)},
        ))
    return specs


def chain_corp_node(chain_id: str, corp: dict, group_ids: set[int]) -> NodeSpec:
    """A corp of the chain as an organisation under its group; a corp invited but not joined is marked pending."""
    pending = not corp["is_joined"] if "is_joined" in corp else not corp.get("corpid")
    corpid = corp.get("corpid") or corp.get("pending_corpid") or ""
    groupid = int(corp.get("groupid") or 0)
    wecom = {"chain_id": chain_id, "groupid": groupid, "pending_corpid" if pending else "corpid": corpid}
    wecom.update({key: corp[key] for key in ("custom_id", "invite_userid") if corp.get(key)})
    in_group = groupid in group_ids
    return NodeSpec(
        organisations.chain_corp_id(chain_id, corpid, pending),
        organisations.ORGANISATION,
        corp.get("corp_name") or corpid,
        organisations.chain_group_id(chain_id, groupid) if in_group else organisations.chain_node_id(chain_id),
        organisations.CHAIN_DIMENSION_ID,
        organisations.SOURCE_WECOM_CHAIN,
        wecom,
        pending,
    )
