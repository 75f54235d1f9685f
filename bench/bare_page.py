"""A bare authenticated page for server-time ceilings: base.html with nothing in it, through the project's whole
middleware stack and context processors (session, user, CSRF, messages, time zone). Use this module as
ROOT_URLCONF: the project's URLs plus BARE_URL.

`/accounts/profile/`, the bare page the benchmarks used first, also renders a form whose time-zone field lists
every IANA zone (recomamp/widgets.py): about 4 ms, nearly half of its time, that no other page pays.
"""

from django.shortcuts import render
from django.urls import include, path

BARE_URL = "/bench/bare/"


def bare(request):
    return render(request, "base.html")


urlpatterns = [path(BARE_URL.lstrip("/"), bare), path("", include("recomamp.urls"))]
