"""The scheduled reconciliation of a tenant's WeCom customers, upstream/downstream (上下游) organisations and 上下游
contacts (the members of the downstream corps its app is shared with, `chalicelib/directory/chain_contacts.py`).

Callbacks keep the directory current; this run repairs what they missed, onboards a tenant's existing customers and
brings in the chains. It must be complete and incremental for corps of any size, so:

- **Streamed.** Customers come member by member from externalcontact/batch/get_by_user (≤ 100 follow users per
  request, 100 pairs per page, every cursor followed) and are applied a page at a time: one BatchGet, writes only for
  what changed. Nothing proportional to the corp is held in memory.
- **Removals without stamping every contact.** A customer WeCom stopped returning has to be found without a "seen"
  write per customer per run (a second run with nothing changed must write nothing). The follow index
  (`customer-follows`, one key per member-customer pair, in member order) makes that a comparison of counts: after a
  batch of members, one Query over the batch's key range counts the relations stored per member; a member with more
  relations than pairs seen lost customers, and only then is asked for its current list (externalcontact/list, one
  call) to find which. Relations of members that are no longer follow users lie in the same key range and go too.
  Contacts left without a member are marked inactive, with a timestamp, never deleted, once every member has been
  seen (a customer moving to a member of a later batch must not flicker); members' own WeChat accounts are skipped.
- **Resumable.** Progress — the last member of the finished batches, the members of the batch in flight and how many
  of its pairs are done, the counters — is checkpointed on the run's record (a conditional write with a sequence
  number). Before the Lambda's time runs out, or when WeCom asks us to slow down (45009, -1, the client-side rate
  limit), the run saves its checkpoint and continues in a follow-up SQS message (delayed by the back-off). A crash
  resumes from the last checkpoint; every write is an idempotent upsert, so repeating a page never duplicates.
- **上下游 contacts corp by corp.** After the chains, the corps the app is shared with are read in corpid order, each
  through its own downstream token, a page of members at a time; the checkpoint holds the last corp and member done.
  A corp WeCom refuses is recorded in the run and skipped (the run ends partial); the others go on.
- **One run per tenant at a time.** A lease in DynamoDB (see `store/sync_runs.py`). A request that finds another run
  going is noted on the lease and served by one follow-up run when the current one ends; a scheduled request is
  simply dropped, as the run in progress is the same reconciliation.

The client does not expose WeCom's page cursor, so the batch in flight is resumed by re-reading it and skipping the
pairs already applied (WeCom's cursors and the simulator's resume by key, so the order is stable); a page-level client
API would let the checkpoint hold the cursor instead.

Modules: `triggers` (how a run is asked for), `planning` (batches, key ranges, chain nodes; pure), `checkpoint` (where
a run stands, and the run record as the admin reads it), `run` (one invocation's work).
"""
