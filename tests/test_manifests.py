"""Lint for the deployment manifests (deploy/compose.yaml, deploy/k8s/*.yaml): they parse, and the stack's shape
holds — every app container has an image and its environment, workers and beat say what they run, exactly one
beat, and every Celery queue the settings declare is consumed by some worker. No container engine needed."""

from pathlib import Path

import pytest
import yaml
from django.conf import settings

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
K8S_FILES = sorted((DEPLOY / "k8s").glob("*.yaml"))
QUEUES = {queue.name for queue in settings.CELERY_TASK_QUEUES}


def _queues(command):
    """The queues a `celery worker -Q a,b` command consumes (none for other commands)."""
    if "worker" not in command:
        return set()
    assert "-Q" in command, f"a worker without -Q consumes only the default queue: {command}"
    return set(command[command.index("-Q") + 1].split(","))


def _celery(command):
    return bool(command) and command[0] == "celery"


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def k8s_docs():
    docs = []
    for path in K8S_FILES:
        docs += [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
    return docs


def test_compose_app_services(compose):
    services = compose["services"]
    apps = {name: svc for name, svc in services.items() if "build" in svc}
    assert {"web", "beat"} <= set(apps)
    for name, svc in apps.items():
        assert svc["build"]["dockerfile"] == "deploy/Dockerfile", name
        assert svc.get("env_file") == ".env", name
        assert {"db", "redis"} <= set(svc.get("depends_on", {})), name
    assert "command" not in apps["web"], "web runs the image's CMD (gunicorn)"
    assert apps["web"]["healthcheck"]["test"][-1].endswith("/readyz')")
    beats = [name for name, svc in apps.items() if _celery(svc.get("command")) and "beat" in svc["command"]]
    assert beats == ["beat"], "exactly one beat service"
    assert apps["beat"]["deploy"]["replicas"] == 1
    consumed = set().union(*(_queues(svc.get("command") or []) for svc in apps.values()))
    assert consumed == QUEUES, f"queues without a worker: {QUEUES - consumed}; unknown: {consumed - QUEUES}"
    # Every service other than the apps names an image; named volumes are declared.
    for name, svc in services.items():
        assert "build" in svc or svc.get("image"), name
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith("."):
                assert source in compose["volumes"], (name, source)


def test_k8s_workloads(k8s_docs):
    assert K8S_FILES, "deploy/k8s has manifests"
    for doc in k8s_docs:
        assert {"apiVersion", "kind", "metadata"} <= set(doc), doc
    workloads = [doc for doc in k8s_docs if doc["kind"] in ("Deployment", "Job")]
    deployments = [doc for doc in workloads if doc["kind"] == "Deployment"]
    assert deployments
    consumed, beats = set(), []
    for doc in workloads:
        name = doc["metadata"]["name"]
        spec = doc["spec"]["template"]["spec"]
        for container in spec["containers"]:
            assert container.get("image"), name
            assert container.get("envFrom"), f"{name}: settings come from the gridcase-env Secret"
            command = container.get("command")
            if doc["kind"] == "Job" or not name.endswith("-web"):
                assert command, f"{name}: only web may rely on the image's CMD"
            else:
                assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
            if doc["kind"] == "Deployment" and _celery(command):
                consumed |= _queues(command)
                if "beat" in command:
                    beats.append(doc)
        if doc["kind"] == "Deployment":
            labels = doc["spec"]["template"]["metadata"]["labels"]
            assert doc["spec"]["selector"]["matchLabels"].items() <= labels.items(), name
    assert len(beats) == 1, "exactly one beat Deployment"
    assert beats[0]["spec"]["replicas"] == 1
    assert beats[0]["spec"]["strategy"]["type"] == "Recreate", "never two beats during a rollout"
    assert consumed == QUEUES, f"queues without a worker: {QUEUES - consumed}; unknown: {consumed - QUEUES}"


def test_k8s_references(k8s_docs):
    """Services select the pods of a Deployment; autoscalers scale a Deployment that exists."""
    deployments = [doc for doc in k8s_docs if doc["kind"] == "Deployment"]
    names = {doc["metadata"]["name"] for doc in deployments}
    pod_labels = [doc["spec"]["template"]["metadata"]["labels"] for doc in deployments]
    for doc in k8s_docs:
        if doc["kind"] == "HorizontalPodAutoscaler":
            assert doc["spec"]["scaleTargetRef"]["name"] in names
        if doc["kind"] == "Service":
            selector = doc["spec"]["selector"]
            assert any(selector.items() <= labels.items() for labels in pod_labels), selector


def test_podman_variants_follow_compose(compose):
    """deploy/podman-up.sh and compose.podman.yaml (no registry, deploy/README.md) run compose's app services."""
    apps = {name: svc for name, svc in compose["services"].items() if "build" in svc}
    override = yaml.safe_load((DEPLOY / "compose.podman.yaml").read_text(encoding="utf-8"))
    assert set(override["services"]) == set(apps)
    for svc in override["services"].values():
        assert svc["build"]["dockerfile"] == "deploy/Containerfile.debian"
        assert "command" not in svc, "commands come from compose.yaml"
    script = (DEPLOY / "podman-up.sh").read_text(encoding="utf-8")
    for name, svc in apps.items():
        assert f"\nrun {name} " in script, f"podman-up.sh does not start {name}"
        for queue in _queues(svc.get("command") or []):
            assert queue in script, (name, queue)
    assert script.count("\nrun beat ") == 1
