"""The messages table: one thread per (external contact, member) — 我的对接人 on the contact's home, 消息 in the
members' workspace. Two kinds of row, in two kinds of partition:

- thread    pk `<tenantKey>#c#<contactId>`, sk `thread#<userId>`: the pair's summary — the last message (time, text,
            who wrote it), how many messages each side has not read, when it began. The `byMember` index
            (`memberKey` = `<tenantKey>#u#<userId>`, `lastAt`) is a member's inbox, newest first; the contact's own
            threads are one Query of their partition.
- message   pk `<tenantKey>#t#<contactId>#<userId>` (the thread key), sk `m#<createdAt>#<rand>`: one message, read
            newest first a page at a time.
A message and its thread's summary are written in one transaction, so the counts and the last message never
disagree with the messages. Every partition key starts with the tenantKey. Member userids never contain `#`
(`chalicelib.messages.threads` checks), so a thread key names exactly one pair.
"""
from __future__ import annotations

import secrets

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.store.base import TableModel, conditional_update, table_meta, transact
from chalicelib.store.shares import stamp

CONTACT, MEMBER = "contact", "member"
THREAD_PREFIX, MESSAGE_PREFIX = "thread#", "m#"
LAST_TEXT = 140
WRITE_ATTEMPTS = 5


def contact_pk(tenant_key: str, contact_id: str) -> str:
    return f"{tenant_key}#c#{contact_id}"


def member_key(tenant_key: str, user_id: str) -> str:
    return f"{tenant_key}#u#{user_id}"


def thread_pk(tenant_key: str, contact_id: str, user_id: str) -> str:
    return f"{tenant_key}#t#{contact_id}#{user_id}"


def thread_sk(user_id: str) -> str:
    return f"{THREAD_PREFIX}{user_id}"


class MemberIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "byMember"
        projection = AllProjection()

    member_key = UnicodeAttribute(hash_key=True, attr_name="memberKey")
    last_at = UnicodeAttribute(range_key=True, attr_name="lastAt")


class Thread(TableModel):
    """A pair's summary (the table's model for infra: it carries the keys and the index)."""

    Meta = table_meta("messages")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    contact_id = UnicodeAttribute(attr_name="contactId")
    user_id = UnicodeAttribute(attr_name="userId")
    member_key = UnicodeAttribute(attr_name="memberKey")
    last_at = UnicodeAttribute(attr_name="lastAt")
    last_text = UnicodeAttribute(attr_name="lastText")
    last_author = UnicodeAttribute(attr_name="lastAuthor")  # "contact" | "member"
    member_unread = NumberAttribute(default=0, attr_name="memberUnread")
    contact_unread = NumberAttribute(default=0, attr_name="contactUnread")
    started_at = UnicodeAttribute(attr_name="startedAt")

    by_member = MemberIndex()


class Message(TableModel):
    """One message of a thread."""

    Meta = table_meta("messages")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    author_kind = UnicodeAttribute(attr_name="authorKind")  # "contact" | "member"
    author_id = UnicodeAttribute(attr_name="authorId")
    text = UnicodeAttribute()
    created_at = UnicodeAttribute(attr_name="createdAt")


def get_thread(tenant_key: str, contact_id: str, user_id: str) -> Thread | None:
    try:
        return Thread.get(contact_pk(tenant_key, contact_id), thread_sk(user_id), consistent_read=True)
    except DoesNotExist:
        return None


def threads_of_contact(tenant_key: str, contact_id: str) -> list[Thread]:
    """Every thread of a contact (one per member they talk with: a handful)."""
    return list(Thread.query(contact_pk(tenant_key, contact_id), Thread.sk.startswith(THREAD_PREFIX),
                             consistent_read=True))


def threads_of_member(tenant_key: str, user_id: str, limit: int,
                      start_key: dict | None) -> tuple[list[Thread], bool]:
    """One page of a member's threads, the latest message first (one Query of the index); True when more follow."""
    rows = list(Thread.by_member.query(member_key(tenant_key, user_id), scan_index_forward=False,
                                       limit=limit + 1, page_size=limit + 1, last_evaluated_key=start_key))
    return rows[:limit], len(rows) > limit


def index_key(row: Thread) -> dict:
    """The `byMember` index key of a thread: where the next page of an inbox starts."""
    return {"memberKey": {"S": row.member_key}, "lastAt": {"S": row.last_at}, "pk": {"S": row.pk},
            "sk": {"S": row.sk}}


def messages_page(tenant_key: str, contact_id: str, user_id: str, limit: int,
                  before: str | None) -> tuple[list[Message], bool]:
    """One page of a thread, newest first, older than the message `before` (its sort key); True when more follow."""
    pk = thread_pk(tenant_key, contact_id, user_id)
    rows = list(Message.query(pk, Message.sk.startswith(MESSAGE_PREFIX), scan_index_forward=False,
                              consistent_read=True, limit=limit + 1, page_size=limit + 1,
                              last_evaluated_key={"pk": {"S": pk}, "sk": {"S": before}} if before else None))
    return rows[:limit], len(rows) > limit


def add(tenant_key: str, contact_id: str, user_id: str, author_kind: str, author_id: str, text: str) -> Message:
    """Write a message and its thread's summary in one transaction (the thread is created by its first message):
    the other side has one more message to read."""
    created = stamp()
    message = Message(thread_pk(tenant_key, contact_id, user_id), f"{MESSAGE_PREFIX}{created}#{secrets.token_hex(4)}",
                      author_kind=author_kind, author_id=author_id, text=text, created_at=created)
    unread = Thread.member_unread if author_kind == CONTACT else Thread.contact_unread
    actions = [
        Thread.contact_id.set(contact_id), Thread.user_id.set(user_id),
        Thread.member_key.set(member_key(tenant_key, user_id)),
        Thread.last_at.set(created), Thread.last_text.set(text[:LAST_TEXT]), Thread.last_author.set(author_kind),
        unread.set((unread | 0) + 1), Thread.started_at.set(Thread.started_at | created),
    ]

    def build(tx) -> None:
        tx.save(message, condition=Message.sk.does_not_exist())
        tx.update(Thread(contact_pk(tenant_key, contact_id), thread_sk(user_id)), actions=actions)

    for _ in range(WRITE_ATTEMPTS):  # another message of the pair held the summary: try again
        if transact(build).committed:
            return message
    raise RuntimeError("a message could not be written: its thread kept changing")


def mark_read(tenant_key: str, contact_id: str, user_id: str, reader_kind: str) -> None:
    """The reader opened the thread: nothing of it is unread for them (nothing to mark when it has no messages)."""
    unread = Thread.member_unread if reader_kind == MEMBER else Thread.contact_unread
    conditional_update(Thread(contact_pk(tenant_key, contact_id), thread_sk(user_id)), [unread.set(0)],
                       Thread.pk.exists() & (unread > 0))
