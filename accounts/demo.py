"""Demo data for a fresh machine. Each step is idempotent: re-running converges on the same state."""

from .models import User

DEMO_EMAIL = "demo@recomamp.local"
DEMO_PASSWORD = "demo-password-123"  # noqa: S105 - a published demo login, local only


def ensure_demo_user() -> tuple[User, bool]:
    user, created = User.objects.get_or_create(
        email=DEMO_EMAIL, defaults={"full_name": "Demo Analyst", "is_staff": True, "is_superuser": True}
    )
    if created or not user.check_password(DEMO_PASSWORD):
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user, created


def seed_demo() -> list[str]:
    user, created = ensure_demo_user()
    return [f"demo user {'created' if created else 'already present'}: {user.email}"]
