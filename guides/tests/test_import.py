"""import_build_guides: one transaction, idempotent, progress kept across edits, file:line errors."""

import shutil

import pytest
from django.core.management import CommandError, call_command

from guides.files import CONTENT_DIR
from guides.importer import import_guides
from guides.models import Guide, GuideMetric, GuideProgress, GuideStep

pytestmark = pytest.mark.django_db


@pytest.fixture
def content(tmp_path):
    directory = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, directory)
    return directory


def test_import_loads_every_guide_and_is_idempotent(content):
    first = import_guides(content)
    assert first.items.created == Guide.objects.count() >= 12
    assert GuideStep.objects.count() >= 36 and GuideMetric.objects.count() >= 36
    stamps = dict(Guide.objects.values_list("slug", "updated_at"))
    second = import_guides(content)
    assert not second.items.changed and not second.columns.changed
    assert dict(Guide.objects.values_list("slug", "updated_at")) == stamps


def test_an_edit_updates_in_place_and_keeps_progress(content, user):
    import_guides(content)
    step = GuideStep.objects.get(guide__slug="reach-and-frequency", number=2)
    GuideProgress.objects.create(owner=user, step=step)
    path = content / "reach-and-frequency.yaml"
    path.write_text(path.read_text().replace("title: Frequency distribution", "title: How often people saw it"))
    report = import_guides(content)
    assert report.columns.updated == 1 and report.columns.created == 0 and report.columns.removed == 0
    step.refresh_from_db()
    assert step.title == "How often people saw it"
    assert GuideProgress.objects.filter(owner=user, step=step).exists()


def test_a_bad_file_changes_nothing(content):
    import_guides(content)
    before = list(GuideStep.objects.order_by("pk").values_list("pk", "title", "sql"))
    (content / "reach-and-frequency.yaml").write_text(
        (content / "reach-and-frequency.yaml").read_text().replace("title: Frequency distribution", "title: Changed")
    )
    broken = content / "zz-broken.yaml"
    broken.write_text("slug: broken\ntitle: Broken\n")
    with pytest.raises(CommandError, match=r"zz-broken\.yaml:1: 'tables' must list"):
        call_command("import_build_guides", str(content))
    assert list(GuideStep.objects.order_by("pk").values_list("pk", "title", "sql")) == before


def test_removed_files_are_reported_and_pruned_on_request(content, capsys):
    import_guides(content)
    (content / "audience-overlap.yaml").unlink()
    call_command("import_build_guides", str(content))
    assert "audience-overlap" in capsys.readouterr().out
    assert Guide.objects.filter(slug="audience-overlap").exists()
    call_command("import_build_guides", str(content), "--prune")
    assert not Guide.objects.filter(slug="audience-overlap").exists()
    assert not GuideStep.objects.filter(guide__slug="audience-overlap").exists()


def test_a_failure_while_writing_rolls_everything_back(content, monkeypatch):
    from guides import importer

    calls = []
    real_sync = importer._sync

    def failing_sync(*args):
        calls.append(args)
        if len(calls) == 5:  # the third guide's steps, after two guides were written
            raise RuntimeError("database went away")
        return real_sync(*args)

    monkeypatch.setattr(importer, "_sync", failing_sync)
    with pytest.raises(RuntimeError):
        import_guides(content)
    assert Guide.objects.count() == GuideStep.objects.count() == 0


def test_admin_lists_and_opens_every_guide_table(client, staff_user, user, make_guide):
    from django.urls import reverse

    guide = make_guide(user)
    client.force_login(staff_user)
    for model in ("guide", "guidestep", "guidemetric", "guideprogress", "guidefavourite"):
        assert client.get(reverse(f"admin:guides_{model}_changelist")).status_code == 200, model
    assert client.get(reverse("admin:guides_guide_change", args=[guide.pk])).status_code == 200
    step = guide.steps.first()
    assert client.get(reverse("admin:guides_guidestep_change", args=[step.pk])).status_code == 200
