"""Fixtures shared by every app's tests: users and small owned objects."""
# ruff: noqa: S106

from pathlib import Path

import pytest

from accounts.models import User

BUNDLE = Path(__file__).resolve().parent / "static" / "dist" / "editor.js"


def pytest_sessionstart(session):
    # The pages load the JavaScript bundles built from frontend/; without them the editor and chart tests
    # would fail far from the cause.
    if not BUNDLE.exists():
        raise pytest.UsageError(f"{BUNDLE} is missing: run `make install` (npm ci and npm run build) first.")


@pytest.fixture
def user(db):
    return User.objects.create_user(email="analyst@example.com", password="correct-horse-battery")


@pytest.fixture
def other_user(db):
    return User.objects.create_user(email="other@example.com", password="correct-horse-battery")


@pytest.fixture
def staff_user(db):
    return User.objects.create_superuser(email="staff@example.com", password="correct-horse-battery")


@pytest.fixture
def user_client(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def make_instance():
    from instances.models import AdvertiserAccount, AMCInstance

    def make(owner, instance_id="amcabc123", entity_id="ENTITY1"):
        account, _ = AdvertiserAccount.objects.get_or_create(
            owner=owner, entity_id=entity_id, defaults={"name": "Acme", "marketplace_id": "ATVPDKIKX0DER"}
        )
        return AMCInstance.objects.create(owner=owner, account=account, instance_id=instance_id, name="Acme US")

    return make


@pytest.fixture
def make_workflow():
    from queries.models import Workflow

    default_sql = "SELECT campaign, COUNT(DISTINCT user_id) AS reach FROM dsp_impressions GROUP BY campaign"

    def make(owner, name="Reach by campaign", sql=default_sql):
        return Workflow.objects.create(owner=owner, name=name, sql=sql)

    return make


@pytest.fixture(autouse=True)
def _close_reused_amc_clients():
    """A kept AMC client's open connection would keep a live-server thread, and its database session, past the
    test (accounts.amazon.reused_client_for)."""
    yield
    from accounts.amazon import forget_reused_clients

    forget_reused_clients()


@pytest.fixture(autouse=True)
def _wind_down_lease_renewer():
    """The renewer's thread keeps its database session until its next beat (executions.leases.Renewer)."""
    yield
    from executions.leases import RENEWER

    RENEWER.wind_down()


@pytest.fixture(autouse=True)
def _sync_background_tasks(monkeypatch):
    """django-q2 tasks run inline in tests (the real cluster is exercised by the worker tests)."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture(scope="session")
def sandbox_dataset(tmp_path_factory):
    """A small deterministic AMC dataset (30k impressions; enough users per campaign-month to pass thresholds)."""
    from datetime import date

    from recomamp.sandbox.engine import generate

    path = tmp_path_factory.mktemp("amc-data") / "amc.duckdb"
    generate(path, scale=0.03, seed=11, end_date=date(2025, 12, 31))
    return path


@pytest.fixture
def amc_sandbox(live_server, settings, sandbox_dataset, tmp_path):
    """The app's AMC and LWA endpoints pointed at the sandbox served over real HTTP by `live_server`."""
    from recomamp.sandbox import faults

    base = f"{live_server.url}/sandbox"
    settings.AMC_API_BASE_URLS = {"NA": base, "EU": f"{base}/eu", "FE": f"{base}/fe"}  # the sandbox's regional hosts
    settings.LWA_AUTHORIZE_URL = f"{base}/ap/oa"
    settings.LWA_TOKEN_URL = f"{base}/auth/o2/token"
    settings.SANDBOX_DATA_PATH = sandbox_dataset
    settings.SANDBOX_RESULTS_PATH = tmp_path / "sandbox-results"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SANDBOX_PENDING_SECONDS = 0
    settings.SANDBOX_RUNNING_SECONDS = 0
    settings.SANDBOX_PUBLISHING_SECONDS = 0
    settings.SANDBOX_FAULTS = {}
    settings.AMC_REQUEST_TIMEOUT = 10
    faults.reset()
    return base


@pytest.fixture
def connected_user(user, amc_sandbox):
    """`user` with a live sandbox grant and the sandbox's instances stored (as after connect + sync)."""
    from home.demo import connect_to_sandbox, ensure_sandbox_instances

    connect_to_sandbox(user)
    ensure_sandbox_instances(user)
    return user


@pytest.fixture
def demo_instance(connected_user):
    from instances.models import AMCInstance
    from recomamp.sandbox.seed import DEMO_INSTANCE_ID

    return AMCInstance.objects.select_related("account").get(owner=connected_user, instance_id=DEMO_INSTANCE_ID)


@pytest.fixture
def make_guide():
    """A small guide with one step per number, the owner's progress on step 1 and the owner's favourite."""
    from django.utils import timezone

    from guides.models import Guide, GuideFavourite, GuideMetric, GuideProgress, GuideStep

    def make(owner=None, execution=None, slug="sample-guide", text="Reach", steps=3):
        guide = Guide.objects.create(
            slug=slug, title=text, category=text, summary=text, why=text, tables=["dsp_impressions"], tags=[text]
        )
        GuideMetric.objects.create(guide=guide, term=text, definition=text)
        for number in range(1, steps + 1):
            GuideStep.objects.create(
                guide=guide, number=number, title=text, narrative=text, reading=text, pitfalls=[text],
                tables=["dsp_impressions"], parameters=[{"name": "n", "type": "integer", "default": 1}],
                sql="SELECT campaign, COUNT(DISTINCT user_id) AS reach FROM dsp_impressions\n"
                "WHERE impressions >= {{n}} GROUP BY campaign",
            )  # fmt: skip
        if owner is not None:
            GuideProgress.objects.create(
                owner=owner, step=guide.steps.get(number=1), done_at=timezone.now(), last_execution=execution
            )
            GuideFavourite.objects.create(owner=owner, guide=guide)
        return guide

    return make


@pytest.fixture(scope="session")
def s3_server():
    """A real S3-compatible server (moto's server mode) on loopback for the whole session."""
    from tests.object_storage import start_server

    server, s3 = start_server()
    yield s3
    server.stop()


@pytest.fixture
def s3_results(s3_server, settings, monkeypatch):
    """Results stored in a fresh bucket of `s3_server` for this test, as with AWS_STORAGE_BUCKET_NAME set."""
    from recomamp.object_storage import s3_storage
    from tests.object_storage import CREDENTIALS, REGION

    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    bucket = s3_server.new_bucket()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": s3_storage(bucket, endpoint_url=s3_server.endpoint_url, region_name=REGION),
    }
    return bucket
