"""Who follows a tenant's WeChat official account, so that contacts are reached through it without ever signing in.

- `events`: the account's own callbacks (subscribe, unsubscribe, SCAN) after the intake queued them: a follow asks
  the account who it is (user/info: the unionid), an unfollow is recorded as it is.
- `reconcile`: those who followed before the callbacks were set up (or while they were down): `user/get` page by page,
  then `user/info/batchget` a hundred at a time, checkpointed, resumable, with counts and errors for the admin.
- `reach`: the openid a message to a contact goes to — the one their WeChat sign-in confirmed, else the follower of
  their unionid (the WeCom customer sync knows it) — or why there is none.
The table is `store/followers`.
"""
