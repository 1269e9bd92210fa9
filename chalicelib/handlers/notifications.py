"""The notifications queue's consumer (see `chalicelib.notifications.delivery`)."""
from __future__ import annotations

from chalicelib.core import config
from chalicelib.handlers import sqs
from chalicelib.handlers.api import ApiBlueprint
from chalicelib.notifications import delivery
from chalicelib.store.queues import NOTIFICATIONS

bp = ApiBlueprint(__name__)


@bp.on_sqs_message(queue=config.resource_name(NOTIFICATIONS.logical_name), batch_size=NOTIFICATIONS.batch_size)
def process_notifications(event) -> dict:
    return sqs.consume(event, NOTIFICATIONS.logical_name, delivery.process_message, NOTIFICATIONS.max_receive_count)
