"""The 与我协作 profile link: every member's WeCom external profile carries a web attribute named exactly `与我协作`
that takes the member's external contacts to the tenant's external home page.

Who is written for (`can_write`): a tenant that authorised the contacts suite (its corp token may edit members), and a
self-built tenant whose secret holds a contacts secret (the local demo tenant is one). WeCom may still refuse a
self-built app (48002 API not permitted, 60011 no privilege): those members end `failed` with the errcode, and the
admin pastes the link from `manual_link` instead. A tenant without either is only ever given the manual link.

How: one SQS message per member (`{"kind": "member"}`), processed by `link_member` — read the member, replace or
insert only our entry, write back only when something differs. A bulk run starts with one `{"kind": "list"}`
message: its consumer lists the corp's members and queues them with SendMessageBatch, paced (DelaySeconds) to the
per-corp rate limit so that the messages arrive about as fast as WeCom may be called. Every message carries the run
it belongs to; each member's outcome in the run is recorded (`chalicelib.store.profile_links`), and the progress is
read back from those records.

Modules: `link` (the entry and its write to one member), `runs` (starting a run and queueing its members),
`worker` (the queue consumer's work), `status` (what the admin reads).
"""
