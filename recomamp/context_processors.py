from django.conf import settings


def site(request):
    return {"SANDBOX_ENABLED": settings.AMC_SANDBOX_ENABLED}
