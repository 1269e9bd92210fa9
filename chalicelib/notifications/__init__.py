"""Telling people things, through a queue: an application to approve, a decision, a comment, a shared item.

Whoever causes a notification only queues it (one SendMessage), so a WeCom or WeChat outage never blocks or fails
the action itself; the consumer retries with backoff and dead-letters with the reason. Each message names a
channel; `delivery.CHANNELS` maps it to the function that delivers it:
- `wecom_app`: a text card to internal members through the tenant's WeCom app (message/send, duplicate check on, so
  a redelivered message is not shown twice).
- `wechat_template`: a template message to an external contact through the tenant's WeChat official account, when
  they follow it (queued by `chalicelib.sharing`).

Modules: `queueing` (what callers use: queue a message, never raising), `delivery` (the consumer's side: the
channels and how each is delivered).
"""
