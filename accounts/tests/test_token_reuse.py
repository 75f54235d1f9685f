"""Token refresh only when needed, over real HTTP against the sandbox's LWA and AMC endpoints.

Each LWA refresh makes one sandbox AccessToken row, so counting rows counts refreshes.
"""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.amazon import amc_client_for
from accounts.models import AmazonConnection
from recomamp.sandbox.models import AccessToken

pytestmark = pytest.mark.django_db(transaction=True)


def refreshes_during(action) -> int:
    before = AccessToken.objects.count()
    action()
    return AccessToken.objects.count() - before


def test_short_lived_tokens_are_not_refreshed_before_every_call(connected_user, demo_instance, settings):
    settings.SANDBOX_ACCESS_TOKEN_SECONDS = 4
    AmazonConnection.objects.filter(user=connected_user).update(expires_at=timezone.now() - timedelta(seconds=1))

    def thirty_requests():
        with amc_client_for(connected_user, demo_instance.region) as client:
            for _ in range(30):
                assert client.get_instance(demo_instance).instance_id == demo_instance.instance_id

    count = refreshes_during(thirty_requests)
    print(f"30 AMC requests with 4-second tokens: {count} refreshes")
    # One refresh for the expired token, then one per ~3.6 s of requests at most; a 60 s margin made it 30.
    assert 1 <= count < 10


def test_concurrent_requests_of_a_process_share_one_refresh(connected_user, demo_instance):
    AmazonConnection.objects.filter(user=connected_user).update(expires_at=timezone.now() - timedelta(seconds=1))

    def one_call(_):
        try:
            with amc_client_for(connected_user, demo_instance.region) as client:
                return client.get_instance(demo_instance).instance_id
        finally:
            connection.close()  # each thread has its own database connection

    def eight_threads():
        with ThreadPoolExecutor(max_workers=8) as pool:
            assert set(pool.map(one_call, range(8))) == {demo_instance.instance_id}

    assert refreshes_during(eight_threads) == 1


def test_a_refused_token_is_refreshed_once_and_the_call_retried(connected_user, demo_instance):
    # Revoke the live access token on the sandbox's side: our clock still thinks it is good.
    AccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with amc_client_for(connected_user, demo_instance.region) as client:
        count = refreshes_during(lambda: client.get_instance(demo_instance))
        assert count == 1
        assert refreshes_during(lambda: client.get_instance(demo_instance)) == 0
