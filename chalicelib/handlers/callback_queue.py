"""The consumer of the callbacks queue: applies each event WeCom's callback URLs (`handlers/callbacks.py`) took in."""
from __future__ import annotations

from chalicelib.callbacks import processing
from chalicelib.core import config
from chalicelib.handlers import sqs
from chalicelib.handlers.api import ApiBlueprint
from chalicelib.store.queues import CALLBACKS

bp = ApiBlueprint(__name__)


@bp.on_sqs_message(queue=config.resource_name(CALLBACKS.logical_name), batch_size=CALLBACKS.batch_size)
def process_callbacks(event) -> dict:
    return sqs.consume(event, CALLBACKS.logical_name, processing.process, CALLBACKS.max_receive_count)
