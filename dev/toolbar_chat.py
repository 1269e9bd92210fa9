"""Tell the local stack's WeCom simulator which chat its stand-in `ww` plays for the chat toolbar (docs/toolbar.md).

    python -m dev.toolbar_chat chen                        # a single chat with 陈先生 (what `make run` starts with)
    python -m dev.toolbar_chat lin                         # 林女士: not synced yet, looked up when the toolbar opens
    python -m dev.toolbar_chat group                       # the demo customer group (陈先生, 林女士): pick one
    python -m dev.toolbar_chat chain <corpid> <userid>     # a 上下游 chat with a downstream corp's member
    python -m dev.toolbar_chat none                        # outside any chat (the page says 请从聊天中打开)

Reload the toolbar page afterwards: it asks `ww.getContext()` when it opens.
"""
from __future__ import annotations

import argparse
import os

from dev.wecom_sim.harness import ControlClient

CHEN = "wmYQdemoa9f7e97965d6cf799a529102"
LIN = "wmYQdemo9ab62b5ef34a985438bfdf7e"
DEMO_GROUP = {"chat_id": "wrYQdemoGroup0001", "name": "华东门店升级项目群", "owner": "zhangsan",
              "member_list": [{"userid": "zhangsan", "type": 1, "name": "张三", "join_scene": 1},
                              {"userid": "lisi", "type": 1, "name": "李四", "join_scene": 1},
                              {"userid": CHEN, "type": 2, "name": "陈先生", "join_scene": 3},
                              {"userid": LIN, "type": 2, "name": "林女士", "join_scene": 3}],
              "admin_list": [{"userid": "zhangsan"}]}


def play(control: ControlClient, which: str, corpid: str | None = None, userid: str | None = None) -> dict:
    """Make the simulator play one of the demo chats (see the module's usage)."""
    if which == "chen":
        return control.play_chat("single_chat_tools", external_userid=CHEN)
    if which == "lin":
        return control.play_chat("single_chat_tools", external_userid=LIN)
    if which == "group":
        control.add_group_chat(DEMO_GROUP)
        return control.play_chat("group_chat_tools", chat_id=DEMO_GROUP["chat_id"])
    if which == "chain":
        if not corpid or not userid:
            raise SystemExit("chain needs the downstream corp's corpid and the member's userid")
        return control.play_chat("chain_single_chat_tools", corpid=corpid, userid=userid)
    if which == "none":
        return control.play_chat("normal")
    raise SystemExit(f"unknown chat {which!r}: chen, lin, group, chain or none")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chat", choices=("chen", "lin", "group", "chain", "none"))
    parser.add_argument("corpid", nargs="?")
    parser.add_argument("userid", nargs="?")
    args = parser.parse_args()
    control = ControlClient(f"http://127.0.0.1:{os.environ.get('YQ_SIMULATOR_PORT', '8701')}")
    print(play(control, args.chat, args.corpid, args.userid))


if __name__ == "__main__":
    main()
