"""Failures of the WeCom API client, typed so callers decide by kind and never by parsing messages.

WeCom answers almost everything with HTTP 200 and an `errcode`; what a caller should do depends on that code only:
retry later (busy, frequency or concurrency limits), refresh the token (invalid or expired token), or give up
(anything else). Transport failures that outlive the retries are a separate kind, because no errcode exists for them.
"""
from __future__ import annotations

# WeCom is busy (-1) or the corp hit a frequency (45009) or concurrency (45033) limit: the same call may succeed later.
TRANSIENT_ERRCODES = frozenset({-1, 45009, 45033})

# The token used is no longer accepted: invalidated or superseded (40001), unknown (40014, which is also what WeCom
# often answers for an expired token), expired (42001); for suite tokens expired (42009) or invalid (40082).
TOKEN_ERRCODES = frozenset({40001, 40014, 42001, 42009, 40082})

NO_CUSTOMERS = 84061
FREQUENCY_LIMIT = 45009  # the corp hit an API's minute (or hour) frequency limit: WeCom blocks it for 60 s (or an hour)
CONCURRENCY_LIMIT = 45033
UNKNOWN_USERID = 60111
# user/getuserid and get_userid_by_email finding nobody: not found, a mobile or email WeCom finds malformed (it may be
# stricter than we are), an unknown userid.
MEMBER_NOT_FOUND_ERRCODES = frozenset({46004, 60103, 60105, UNKNOWN_USERID})
# externalcontact/get for someone who is no longer a customer: an invalid external_userid (40096), not a customer of
# the corp (84061).
CUSTOMER_GONE_ERRCODES = frozenset({40096, NO_CUSTOMERS})
# externalcontact/groupchat/get for a chat the corp does not know as a customer group: chatid not found (40050), a
# malformed id (40058), a group outside the app's customer-contact scope (90006, 90008).
GROUP_CHAT_UNKNOWN_ERRCODES = frozenset({40050, 40058, 90006, 90008})
# message/send refusals no retry can fix: no valid recipient, no app, app not allowed to message them.
MESSAGE_REFUSED_ERRCODES = frozenset({81013, 40056, 301002, 60020, 48002})
# The official account's template/send: the user does not follow the account (WeChat: "require subscribe"); a wrong
# template id or an openid of another account.
NOT_FOLLOWING = 43004
TEMPLATE_REFUSED_ERRCODES = frozenset({40037, 40003})


class WeComError(Exception):
    """Base of every failure raised by `chalicelib.wecom`."""


class WeComApiError(WeComError):
    """WeCom answered with a non-zero errcode (after the bounded retries when the code was transient)."""

    def __init__(self, errcode: int, errmsg: str, path: str) -> None:
        super().__init__(f"{path}: errcode {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg
        self.path = path

    @property
    def transient(self) -> bool:
        """True when retrying later may succeed (WeCom busy or over a limit)."""
        return self.errcode in TRANSIENT_ERRCODES

    @property
    def token_invalid(self) -> bool:
        """True when the call failed because of the token it carried: refresh it and try once more."""
        return self.errcode in TOKEN_ERRCODES

    @property
    def rate_limited(self) -> bool:
        """WeCom's frequency (45009) or concurrency (45033) limit: wait a minute rather than seconds."""
        return self.errcode in (FREQUENCY_LIMIT, CONCURRENCY_LIMIT)

    @property
    def frequency_limited(self) -> bool:
        """The frequency limit alone (45009), which blocks the API for a minute, or an hour after the hourly one."""
        return self.errcode == FREQUENCY_LIMIT

    @property
    def unknown_user(self) -> bool:
        """The userid is unknown to the corp (60111): the member left, or never was one."""
        return self.errcode == UNKNOWN_USERID

    @property
    def member_not_found(self) -> bool:
        """A lookup of a member by mobile or email found nobody."""
        return self.errcode in MEMBER_NOT_FOUND_ERRCODES

    @property
    def group_chat_unknown(self) -> bool:
        """The chat id is not one of the corp's customer groups (or not one the app may read)."""
        return self.errcode in GROUP_CHAT_UNKNOWN_ERRCODES

    @property
    def customer_gone(self) -> bool:
        """The external contact is not (or no longer) a customer of the corp."""
        return self.errcode in CUSTOMER_GONE_ERRCODES

    @property
    def message_refused(self) -> bool:
        """message/send refused for good: no valid recipient, no app, or the app may not message them."""
        return self.errcode in MESSAGE_REFUSED_ERRCODES

    @property
    def not_following(self) -> bool:
        """The official account's user does not follow it (template/send)."""
        return self.errcode == NOT_FOLLOWING

    @property
    def template_refused(self) -> bool:
        """The official account refused the template message for good: a wrong template id or a foreign openid."""
        return self.errcode in TEMPLATE_REFUSED_ERRCODES


class WeComUnavailable(WeComError):
    """WeCom could not be reached or answered with something other than its JSON (timeouts, dropped connections,
    HTTP errors from a gateway), on every attempt allowed.

    The message names the failure's kind and the API path only: exception texts from the HTTP library quote the
    URL, whose query carries the access token or, for `gettoken`, the corp secret.
    """

    def __init__(self, path: str, reason: str, attempts: int) -> None:
        tries = f" (after {attempts} attempt{'s' if attempts != 1 else ''})" if attempts else ""
        super().__init__(f"{path}: {reason}{tries}")
        self.path = path
        self.reason = reason
        self.attempts = attempts


class RateLimited(WeComError):
    """The client-side per-corp rate limit is spent for the current window: try again after `retry_after` seconds.

    Raised only in non-blocking mode, so that an SQS consumer can hand the message back with a visibility timeout
    instead of holding a Lambda invocation idle.
    """

    def __init__(self, corpid: str, path: str, retry_after: float) -> None:
        super().__init__(f"{corpid} {path}: client rate limit reached, retry after {retry_after:.1f}s")
        self.corpid = corpid
        self.path = path
        self.retry_after = retry_after


class SuiteTicketMissing(WeComError):
    """No suite_ticket is stored for the suite yet: WeCom pushes one every 10 minutes after the suite is set up."""

    def __init__(self, suite_id: str) -> None:
        super().__init__(f"no suite_ticket stored for suite {suite_id}")
        self.suite_id = suite_id
