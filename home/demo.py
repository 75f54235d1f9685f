"""Demo data for a fresh machine: a user connected to the sandbox, its instances, the catalog and a few queries.

Every step is idempotent: re-running converges on the same state and never duplicates rows.
"""

from datetime import time, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import AmazonConnection, User

DEMO_EMAIL = "demo@recomamp.local"
DEMO_PASSWORD = "demo-password-123"  # noqa: S105 - a published demo login for local use only
DEMO_WORKFLOW_TEMPLATES = [
    "dsp-campaign-delivery",
    "sponsored-ads-campaign-performance",
    "new-to-brand-customers-by-ad-product",
]


def ensure_demo_user() -> tuple[User, bool]:
    user, created = User.objects.get_or_create(
        email=DEMO_EMAIL, defaults={"full_name": "Demo Analyst", "is_staff": True, "is_superuser": True}
    )
    if created or not user.check_password(DEMO_PASSWORD):
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user, created


def ensure_catalog() -> list[str]:
    from queries.catalog_import import import_library, import_schemas

    schemas, library = import_schemas(), import_library()
    return [f"schema catalog: tables {schemas.items}, columns {schemas.columns}", f"query library: {library.items}"]


def ensure_guides() -> str:
    from guides.importer import import_guides

    return f"build guides: {import_guides().items}"


def ensure_sandbox_data(scale: float) -> str:
    from recomamp.sandbox.engine import generate

    path = settings.SANDBOX_DATA_PATH
    if path.exists():
        return f"sandbox data already at {path}"
    path.parent.mkdir(parents=True, exist_ok=True)
    stats = generate(path, scale=scale)
    return f"sandbox data generated: {stats.row_counts.get('dsp_impressions', 0):,} impressions in {stats.seconds:.0f}s"


def connect_to_sandbox(user: User) -> str:
    """Give the user a live sandbox Login-with-Amazon grant, as if they had clicked through the consent page."""
    from accounts.amazon import store_tokens
    from recomamp.amc.lwa import TokenSet
    from recomamp.sandbox import auth

    connection = AmazonConnection.objects.filter(user=user).first()
    if connection and connection.status == AmazonConnection.Status.ACTIVE and connection.has_tokens:
        return "sandbox connection already active"
    redirect = f"{settings.SITE_URL}/accounts/amazon/callback/"
    code = auth.issue_authorization_code(settings.AMAZON_CLIENT_ID, redirect, settings.LWA_SCOPE)
    issued = auth.exchange_code(settings.AMAZON_CLIENT_ID, code, redirect, "")
    tokens = TokenSet(issued.access_token, issued.refresh_token, issued.expires_in, "bearer")
    connection = connection or AmazonConnection(user=user)
    store_tokens(connection, tokens, timezone.now())
    connection.connected_at = timezone.now()
    connection.save()
    return "sandbox connection created"


def ensure_sandbox_instances(user: User) -> str:
    """Mirror the sandbox's accounts and instances for the user (what `sync_instances` would store)."""
    from instances.services import AccountListing, store_listing
    from recomamp.amc.records import Account, Instance
    from recomamp.sandbox.models import SandboxAccount
    from recomamp.sandbox.seed import ensure_sandbox_catalog

    ensure_sandbox_catalog()
    listed = []
    for account in SandboxAccount.objects.prefetch_related("instances"):
        record = Account(account.entity_id, account.name, account.marketplace_id, raw={})
        instances = [
            Instance(i.instance_id, i.name, i.instance_type, "COMPLETED", "", raw={}) for i in account.instances.all()
        ]
        listed.append(AccountListing(record, account.region, instances, account.marketplace_id))
    return f"instances: {store_listing(user, listed).summary()}"


def ensure_demo_queries(user: User) -> str:
    from queries.models import QueryTemplate, Workflow
    from queries.versions import record_version

    created = 0
    for slug in DEMO_WORKFLOW_TEMPLATES:
        template = QueryTemplate.objects.filter(slug=slug).first()
        if template is None or Workflow.objects.filter(owner=user, template=template).exists():
            continue
        workflow = Workflow.objects.create(
            owner=user, template=template, name=template.name, description=template.description,
            sql=template.sql_template, parameters=_with_sandbox_defaults(template.parameters), tags=template.tags,
            status=Workflow.Status.ACTIVE,
        )  # fmt: skip
        record_version(workflow, user=user, note="Demo query")
        created += 1
    return f"demo queries: {created} created"


def _with_sandbox_defaults(parameters: list[dict]) -> list[dict]:
    """Campaign id parameters default to campaigns that exist in the sandbox data, so demo queries run as is."""
    campaign_ids = sandbox_campaign_ids()
    return [
        {**p, "default": campaign_ids} if p["name"].endswith("campaign_ids") and not p.get("default") else p
        for p in parameters
    ]


def sandbox_campaign_ids(limit: int = 3) -> list[str]:
    import duckdb

    if not settings.SANDBOX_DATA_PATH.exists():
        return []
    with duckdb.connect(str(settings.SANDBOX_DATA_PATH), read_only=True) as db:
        rows = db.execute(
            "SELECT campaign_id_string FROM dsp_impressions GROUP BY 1 ORDER BY count(*) DESC LIMIT ?", [limit]
        ).fetchall()
    return [row[0] for row in rows]


def ensure_demo_schedule(user: User) -> str:
    from instances.models import AMCInstance
    from queries.models import Workflow
    from recomamp.sandbox.seed import DEMO_INSTANCE_ID
    from schedules.models import Schedule
    from schedules.services import refresh_next_run

    if Schedule.objects.filter(owner=user).exists():
        return "demo schedule already present"
    workflow = Workflow.objects.filter(owner=user).order_by("pk").first()
    instance = AMCInstance.objects.filter(owner=user, instance_id=DEMO_INSTANCE_ID).first()
    if workflow is None or instance is None:
        return "demo schedule skipped (no query or instance)"
    schedule = Schedule(
        owner=user, workflow=workflow, instance=instance, name=f"Daily: {workflow.name}",
        kind=Schedule.Kind.DAILY, time_of_day=time(6, 0), timezone=user.timezone,
        window_rule={"kind": "last_n_days", "n_days": 7}, starts_at=timezone.now() - timedelta(minutes=1),
    )  # fmt: skip
    refresh_next_run(schedule)
    schedule.save()
    return f"demo schedule created: {schedule.schedule_id}"


def seed_demo(*, sandbox_scale: float = 1.0) -> list[str]:
    with transaction.atomic():
        user, created = ensure_demo_user()
        report = [f"demo user {'created' if created else 'already present'}: {user.email}"]
        report += ensure_catalog()
        report.append(ensure_guides())
    if settings.AMC_SANDBOX_ENABLED:
        report.append(ensure_sandbox_data(sandbox_scale))
        with transaction.atomic():
            report.append(connect_to_sandbox(user))
            report.append(ensure_sandbox_instances(user))
    with transaction.atomic():
        report.append(ensure_demo_queries(user))
        report.append(ensure_demo_schedule(user))
    if settings.AMC_SANDBOX_ENABLED:
        report.append(_demo_brands(user))
    return report


def _demo_brands(user: User) -> str:
    from brands.demo import ensure_demo_brands
    from instances.models import AMCInstance

    with transaction.atomic():
        instances = AMCInstance.objects.filter(owner=user)  # the demo user's instances are all sandbox ones
        return ensure_demo_brands(user, settings.SANDBOX_DATA_PATH, instances)
