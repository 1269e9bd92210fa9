"""The emulator gives DynamoDB's per-request atomicity, which every test that races threads relies on.

moto alone does not (see `dev.emulator.serve`): these races are the two ways it failed tests before, run hard enough
that plain moto fails them.
"""
from __future__ import annotations

import threading
import uuid

from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.store.wecom_state import WeComState


def _together(threads: int, work) -> None:
    start = threading.Barrier(threads)

    def run(n: int) -> None:
        start.wait()
        work(n)

    running = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()


def test_a_conditional_update_lets_exactly_as_many_writers_pass_as_its_condition_allows():
    pk = f"test#counter#{uuid.uuid4().hex}"
    WeComState(pk, used=0).save()
    granted: list[int] = []

    def take(_n: int) -> None:
        for _ in range(25):
            try:
                WeComState(pk).update(actions=[WeComState.used.add(1)], condition=WeComState.used < 100)
                granted.append(1)
            except UpdateError:
                pass

    _together(8, take)
    assert (len(granted), WeComState.get(pk, consistent_read=True).used) == (100, 100)


def test_a_conditional_put_has_one_winner():
    pks = [f"test#claim#{uuid.uuid4().hex}" for _ in range(20)]
    winners = {pk: [] for pk in pks}

    def claim(n: int) -> None:
        for pk in pks:
            try:
                WeComState(pk, lease_holder=str(n)).save(condition=WeComState.pk.does_not_exist())
                winners[pk].append(n)
            except PutError:
                pass

    _together(6, claim)
    assert all(len(won) == 1 for won in winners.values()), winners
    assert [WeComState.get(pk, consistent_read=True).lease_holder for pk in pks] == [
        str(winners[pk][0]) for pk in pks]


def test_a_failing_transaction_undoes_nothing_another_request_wrote():
    blocker = f"test#blocker#{uuid.uuid4().hex}"
    WeComState(blocker, used=1).save()
    written = [f"test#written#{uuid.uuid4().hex}" for _ in range(60)]
    refused: list[int] = []
    connection = Connection(region=WeComState.Meta.region, host=WeComState.Meta.host)

    def work(n: int) -> None:
        if n == 0:
            for pk in written:
                WeComState(pk, used=1).save()
            return
        for _ in range(30):
            try:
                with TransactWrite(connection=connection) as transaction:
                    transaction.save(WeComState(f"test#never#{uuid.uuid4().hex}", used=1))
                    transaction.condition_check(WeComState, blocker, condition=WeComState.used == 0)
            except TransactWriteError:
                refused.append(n)

    _together(3, work)
    assert len(refused) == 60
    assert [pk for pk in written if WeComState.count(pk, consistent_read=True) == 0] == []
