"""A Snowflake load left running by a worker that died is loaded again within a minute, never while it is alive.

The worker is a second PostgreSQL session holding the delivery's load lock, as `delivery.deliver` does; killing it
is `pg_terminate_backend`, which is what PostgreSQL sees when a worker process is killed.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from executions.models import SnowflakeDelivery
from executions.snowflake import delivery as service
from executions.snowflake import liveness
from executions.tests import test_delivery
from recomamp.background import BACKGROUND_TASKS
from tests.db_sessions import terminate, worker_session

# The delivery tests' fixtures: a Snowflake config, fakesnow, a delivery with a stored result, media in tmp_path.
config, fake_snowflake, make_delivery, media = (
    test_delivery.config, test_delivery.fake_snowflake, test_delivery.make_delivery, test_delivery.media,
)  # fmt: skip

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:Arrow output on a DB-API result:UserWarning"),
]


def load_started_by(worker, delivery, minutes_ago=1):
    """What `deliver` does in a worker: take the load lock, then claim the row."""
    worker.execute("SELECT pg_advisory_lock(%s, %s)", [liveness.LOCK_SPACE, delivery.pk])
    started = timezone.now() - timedelta(minutes=minutes_ago)
    SnowflakeDelivery.objects.filter(pk=delivery.pk).update(status="running", started_at=started, attempts=1)


def test_the_recovery_is_scheduled_every_minute():
    assert BACKGROUND_TASKS["recover-snowflake-deliveries"] == ("executions.tasks.recover_snowflake_deliveries", 1)


def test_a_load_whose_worker_was_killed_is_loaded_again(config, make_delivery, fake_snowflake):
    delivery = make_delivery()
    with worker_session() as (worker, pid):
        load_started_by(worker, delivery)
        assert service.recover_stuck_deliveries() == 0  # alive: its session holds the lock
        terminate(pid)  # the worker is killed in the middle of its load

    assert service.recover_stuck_deliveries() == 1

    delivery.refresh_from_db()
    assert (delivery.status, delivery.rows_loaded, delivery.attempts) == ("succeeded", 2, 2)


def test_a_long_load_with_a_live_worker_is_left_alone(config, make_delivery):
    delivery = make_delivery()
    with worker_session() as (worker, _):
        load_started_by(worker, delivery, minutes_ago=24 * 60)
        assert service.fail_stuck_deliveries() == []
        delivery.refresh_from_db()
        assert delivery.status == "running"
