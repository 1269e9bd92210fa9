"""Customer groups (客户群): `externalcontact/groupchat/get`, and the control endpoint that adds a group.

A group is given as WeCom answers it: `{chat_id, name, owner, create_time, notice, member_list[{userid, type (1 a
member, 2 an external contact), join_time, join_scene, invitor{userid}, group_nickname, name, unionid?}],
admin_list[{userid}]}` — in a scenario under a corp's `group_chats`, or through `POST /__sim__/group_chats`.

    POST externalcontact/groupchat/get {chat_id, need_name}   → group_chat; missing chat_id 40058, unknown 40050
                                                                (*unverified*: WeCom's global list names 40050
                                                                "chatid不存在"). need_name 0 leaves out the members'
                                                                `name` (WeCom's rule).
"""
from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from .errors import WeComError

if TYPE_CHECKING:
    from .api import Call, Route
    from .server import Simulator


def groupchat_get(sim: "Simulator", call: "Call") -> dict:
    body = call.json()
    chat_id = body.get("chat_id")
    if not chat_id or not isinstance(chat_id, str):
        raise WeComError(40058, "chat_id")
    group = sim.state.group_chats.get(call.corpid, {}).get(chat_id)
    if group is None:
        raise WeComError(40050)
    shown = copy.deepcopy(group)
    if not body.get("need_name"):
        for member in shown.get("member_list", []):
            member.pop("name", None)
    return {"group_chat": shown}


def routes(route: type["Route"]) -> dict[str, "Route"]:
    return {"externalcontact/groupchat/get": route(groupchat_get, "corp")}


def put_group_chat(sim: "Simulator", query: dict, body: dict) -> dict:
    group = body["group_chat"]
    if not isinstance(group, dict) or not isinstance(group.get("chat_id"), str) \
            or not isinstance(group.get("member_list", []), list):
        raise ValueError("group_chat needs a chat_id and a member_list")
    group = {"name": "", "owner": "", "create_time": int(sim.now()), "notice": "", "admin_list": [],
             "member_list": [], **group}
    with sim.lock:
        corp = sim.state.corp(body.get("corpid"))
        sim.state.group_chats.setdefault(corp.corpid, {})[group["chat_id"]] = group
    return {"group_chat": group}


CONTROL_ROUTES = {("POST", "group_chats"): put_group_chat}
