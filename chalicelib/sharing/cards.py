"""The card the chat toolbar puts into the chat (WeCom's `sendChatMessage` news message): title, description, the
item's link on the contact's 与我协作 home, and a picture of the item's kind.

The pictures are drawn here, one small PNG per kind (a coloured tile with a white sheet), so the card needs no image
the item's module may not have and the app ships no binary files: WeCom's client fetches `imgUrl` from our own site.
"""
from __future__ import annotations

import functools
import struct
import zlib

from chalicelib.sharing import kinds
from chalicelib.sharing.items import home_url
from chalicelib.store.shares import ItemRow
from chalicelib.store.tenants import Tenant
from chalicelib.tenants import urls

CARD_PATH = "/mobile/wechat/external/cards/"
DESCRIPTION_MAX = 80  # what a news card shows before WeCom cuts it
COLOURS = {"project": (22, 119, 255), "task": (0, 168, 112), "approval": (250, 140, 22), "form": (114, 46, 209),
           "form_record": (114, 46, 209), "document": (19, 194, 194), "schedule": (235, 47, 150),
           "crm_record": (212, 56, 13)}
SIZE = 96


def card(tenant: Tenant, item: ItemRow) -> dict:
    """`{title, description, link, imgUrl}` for a news message about the item (a form: to fill; a form record: to
    view), linking to the item on the contact's home."""
    label = kinds.KIND_LABELS[item.kind]
    parts = [f"{label}（请填写）" if item.kind == "form" else label, f"来自{item.owner_name or item.owner_id}"]
    if item.status:
        parts.append(item.status)
    description = " · ".join(parts)
    if item.summary:
        description = f"{description}\n{item.summary}"
    if len(description) > DESCRIPTION_MAX:
        description = description[:DESCRIPTION_MAX - 1] + "…"
    return {"title": item.title, "description": description, "link": home_url(tenant, item.kind, item.item_id),
            "imgUrl": urls.public_url(tenant, f"{CARD_PATH}{item.kind}.png")}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


@functools.lru_cache(maxsize=None)
def icon_png(kind: str) -> bytes:
    """The kind's picture: a 96×96 PNG, a tile of the kind's colour holding a white sheet with three lines."""
    kinds.check_kind(kind)
    colour, white = bytes(COLOURS[kind]), b"\xff\xff\xff"
    rows = []
    for y in range(SIZE):
        row = bytearray(b"\x00")  # filter: none
        for x in range(SIZE):
            on_sheet = 26 <= x < 70 and 18 <= y < 78
            on_line = on_sheet and 34 <= x < 62 and any(top <= y < top + 4 for top in (32, 44, 56))
            row += colour if on_line or not on_sheet else white
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
            + _chunk(b"IEND", b""))
