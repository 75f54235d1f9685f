"""Submissions reuse one AMC client per thread, owner and region for a short while (accounts.amazon)."""

import os

import pytest

from accounts import amazon
from accounts.amazon import disconnect, reused_client_for

pytestmark = pytest.mark.django_db


def test_a_client_is_reused_then_renewed_and_a_disconnect_drops_it(user, other_user, monkeypatch):
    first = reused_client_for(user)
    assert reused_client_for(user) is first
    assert reused_client_for(other_user) is not first  # one per owner
    assert reused_client_for(user, "EU") is not first  # and per region

    monkeypatch.setattr(amazon, "REUSE_SECONDS", -1.0)  # kept too long: a new client reads the connection again
    renewed = reused_client_for(user)
    assert renewed is not first
    monkeypatch.undo()

    disconnect(user)  # at once in this process
    assert reused_client_for(user) is not renewed


def test_a_forked_child_starts_without_its_parents_clients(user):
    reused_client_for(user)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never uses the parent's sockets
        os.write(write, b"empty" if not amazon._reused.__dict__.get("clients") else b"inherited")
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 16) == b"empty"
    assert amazon._reused.__dict__["clients"]  # the parent keeps its own
