"""Background jobs: claimed once, progress, a result file read by its owner only (not even an administrator)."""

import io

import pytest

from gridcase.jobs import kinds, services
from gridcase.jobs.models import Job

from ..conftest import api_client

pytestmark = pytest.mark.django_db


def _runner(job, progress):
    progress(5, 10, force=True)
    if job.params.get("fail"):
        raise RuntimeError("boom")
    return services.Output(io.BytesIO("结果".encode()), "结果.txt", "text/plain")


@pytest.fixture
def fake_kind(monkeypatch):
    monkeypatch.setitem(kinds.KINDS, "test_kind", f"{__name__}._runner")
    monkeypatch.setattr(services, "KINDS", kinds.KINDS)
    return "test_kind"


def test_owner_follows_progress_and_downloads(city, fake_kind, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    job = services.create(city.secretary, fake_kind, {"x": 1}, total=10)
    client = api_client(city.secretary)
    body = client.get(f"/api/v1/jobs/{job.pk}/").json()
    assert body["status"] == "pending" and body["download_url"] is None
    assert client.get(f"/api/v1/jobs/{job.pk}/download/").json()["code"] == "not_ready"
    done = services.process(job.pk)
    assert done.status == "done" and done.done == 5 and done.filename == "结果.txt"
    assert "结果" not in done.result.name  # stored under a random name
    assert services.process(job.pk) is None  # a second delivery does nothing
    body = client.get(f"/api/v1/jobs/{job.pk}/").json()
    assert body["progress"] == 1.0 and body["download_url"] == f"/api/v1/jobs/{job.pk}/download/"
    res = client.get(body["download_url"])
    assert res.status_code == 200 and b"".join(res.streaming_content) == "结果".encode()
    assert res["Cache-Control"] == "private, no-store"
    assert "filename*=UTF-8''%E7%BB%93%E6%9E%9C.txt" in res["Content-Disposition"]
    assert [j["id"] for j in client.get("/api/v1/jobs/").json()["results"]] == [job.pk]


@pytest.mark.parametrize("who", ["outsider", "sibling_worker", "dispatcher", "admin"])
def test_nobody_else_reads_a_job(city, fake_kind, settings, tmp_path, who):
    settings.MEDIA_ROOT = tmp_path
    job = services.process(services.create(city.secretary, fake_kind, {}).pk)
    client = api_client(getattr(city, who))
    assert client.get(f"/api/v1/jobs/{job.pk}/").status_code == 404
    assert client.get(f"/api/v1/jobs/{job.pk}/download/").status_code == 404
    assert client.get("/api/v1/jobs/").json()["results"] == []
    assert api_client(None).get(f"/api/v1/jobs/{job.pk}/").status_code in (401, 403)


def test_a_failing_job_is_failed_not_left_running(city, fake_kind):
    job = services.create(city.secretary, fake_kind, {"fail": True})
    with pytest.raises(RuntimeError):
        services.process(job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and job.error == "RuntimeError" and job.finished_at
    res = api_client(city.secretary).get(f"/api/v1/jobs/{job.pk}/download/")
    assert res.status_code == 409 and res.json()["code"] == "not_ready"


def test_sweep_requeues_lost_jobs_and_purges_old_files(city, fake_kind, settings, tmp_path, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    settings.MEDIA_ROOT = tmp_path
    queued = []
    monkeypatch.setattr(services, "enqueue", lambda task, pk: queued.append(pk) or True)
    lost = services.create(city.secretary, fake_kind, {})
    Job.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert services.requeue_stale() == 1 and queued == [lost.pk]
    done = services.process(lost.pk)
    path = done.result.path
    Job.objects.filter(pk=done.pk).update(finished_at=timezone.now() - timedelta(days=settings.JOB_RESULT_DAYS + 1))
    assert services.purge_expired() == 1
    done.refresh_from_db()
    assert not done.result and not __import__("os").path.exists(path)
    assert api_client(city.secretary).get(f"/api/v1/jobs/{done.pk}/download/").status_code == 404


def test_a_task_queued_by_name_is_found_in_a_process_that_never_imported_it():
    """A web process runs no autodiscovery: `core.queue` imports the task's module itself (else every job would wait
    for the sweep). Checked in a fresh interpreter, where nothing has imported the task modules."""
    import subprocess
    import sys

    code = ("import django; django.setup(); from celery import current_app; "
            "assert 'gridcase.jobs.tasks.run_job' not in current_app.tasks; "
            "from gridcase.core.queue import resolve; print(resolve('gridcase.jobs.tasks.run_job').name)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "gridcase.settings"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "gridcase.jobs.tasks.run_job"
