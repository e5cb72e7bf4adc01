"""deploy/kubernetes/: every manifest validates offline against the Kubernetes API schemas (the oldest
and newest version we support, strict: no unknown fields), and the properties an operator relies on
hold — non-root, read-only root filesystem, no capabilities, probes on /health/live and /health/ready,
resources, a disruption budget the autoscaler's minimum can honour, a network policy that lets in only
the ingress controller, configuration equal to config/, and Secrets that hold placeholders only (which
production refuses to start with)."""

from __future__ import annotations

import copy
import functools
import importlib.util
import secrets
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import kubernetes_validate
import pytest
import typer
import yaml

from dgkb.app import create_app
from dgkb.cli import app as cli
from dgkb.demo_secrets import is_demo_secret
from dgkb.domain.errors import InvalidConfiguration
from dgkb.runner import WORKER_KILL_MARGIN_SECONDS
from dgkb.settings import PROJECT_ROOT, Environment, Settings

MANIFESTS = PROJECT_ROOT / "deploy" / "kubernetes"
# the oldest Kubernetes with everything used here (the preStop `sleep` action), and the newest schemas
# kubernetes-validate ships
VERSIONS = ("1.30.0", kubernetes_validate.utils.latest_version())
APP = {"app.kubernetes.io/name": "dgkb"}


def _load_sync() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sync_config", MANIFESTS / "sync_config.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sync = _load_sync()


def manifest_files() -> list[Path]:
    return sorted(p for p in MANIFESTS.glob("*.yaml") if p.name != "kustomization.yaml")


@functools.cache
def _parsed() -> tuple[dict[str, Any], ...]:
    return tuple(doc for path in manifest_files() for doc in yaml.safe_load_all(path.read_text()) if doc)


def documents() -> list[dict[str, Any]]:
    """Every manifest (a copy: a test may change it)."""
    return copy.deepcopy(list(_parsed()))


def one(kind: str, name: str = "dgkb") -> dict[str, Any]:
    (found,) = [d for d in documents() if d["kind"] == kind and d["metadata"]["name"] == name]
    return found


def pod_specs() -> list[dict[str, Any]]:
    """The pod template of every workload: the API, the migration Job, the nightly verification."""
    specs = []
    for d in documents():
        if d["kind"] in ("Deployment", "Job"):
            specs.append(d["spec"]["template"]["spec"])
        elif d["kind"] == "CronJob":
            specs.append(d["spec"]["jobTemplate"]["spec"]["template"]["spec"])
    return specs


def api_container() -> dict[str, Any]:
    (container,) = one("Deployment")["spec"]["template"]["spec"]["containers"]
    return dict(container)


def env_of(*names: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for d in documents():
        if d["metadata"]["name"] in names:
            values.update(d.get("data") or d.get("stringData") or {})
    return values


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("path", manifest_files(), ids=lambda p: p.name)
def test_manifest_validates_offline(path: Path, version: str) -> None:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    assert docs, path
    for doc in docs:
        kubernetes_validate.validate(doc, version, strict=True)  # raises ValidationError


def test_validation_can_fail() -> None:
    deployment = one("Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFs"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, VERSIONS[0], strict=True)


def test_kustomization_lists_every_manifest_but_the_migration_job() -> None:
    listed = set(yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())["resources"])
    assert listed == {p.name for p in manifest_files()} - {"job-migrate.yaml"}


def test_every_container_runs_unprivileged_on_a_read_only_root() -> None:
    specs = pod_specs()
    assert len(specs) == 3
    for spec in specs:
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] >= 1000
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        assert spec["automountServiceAccountToken"] is False
        writable = {v["name"] for v in spec["volumes"] if "emptyDir" in v}
        for container in spec["containers"] + spec.get("initContainers", []):
            ctx = container["securityContext"]
            assert ctx["runAsNonRoot"] is True, container["name"]
            assert ctx["readOnlyRootFilesystem"] is True, container["name"]
            assert ctx["allowPrivilegeEscalation"] is False, container["name"]
            assert ctx["capabilities"]["drop"] == ["ALL"], container["name"]
            assert "add" not in ctx["capabilities"], container["name"]
            for key in ("cpu", "memory"):
                assert container["resources"]["requests"][key], (container["name"], key)
                assert container["resources"]["limits"][key], (container["name"], key)
            # the only writable mount is the emptyDir at /tmp; everything else is mounted read-only
            for mount in container.get("volumeMounts", []):
                if mount["name"] in writable:
                    assert mount["mountPath"] == "/tmp", mount
                else:
                    assert mount.get("readOnly") is True, mount
            assert any(m["mountPath"] == "/tmp" for m in container["volumeMounts"]), container["name"]
            assert not container["image"].endswith(":latest")
            assert ":" in container["image"]


def test_probes_ask_for_liveness_and_readiness_on_the_container_port() -> None:
    container = api_container()
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    expected = {
        "startupProbe": "/health/live",
        "livenessProbe": "/health/live",
        "readinessProbe": "/health/ready",
    }
    for probe, path in expected.items():
        http = container[probe]["httpGet"]
        assert http["path"] == path, probe
        assert http["port"] in ports, probe
    # stopping: the preStop pause, DGKB's own grace period and the margin after which the supervisor
    # kills a worker still running fit in the pod's
    spec = one("Deployment")["spec"]["template"]["spec"]
    grace = int(env_of("dgkb-env")["DGKB_SHUTDOWN_GRACE_SECONDS"]) + WORKER_KILL_MARGIN_SECONDS
    assert (
        container["lifecycle"]["preStop"]["sleep"]["seconds"] + grace < spec["terminationGracePeriodSeconds"]
    )
    # a slow start (configuration check, migration, workers) must not count against liveness
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 60


def test_the_container_runs_dgkb_as_the_cli_accepts_it_on_the_probed_port() -> None:
    container = api_container()
    run = typer.main.get_command(cli).commands["run"]  # typer's group (it vendors click)
    assert container["args"][0] == "run"
    params = run.make_context("run", container["args"][1:]).params
    assert params["simulators"] is False
    assert params["workers"] >= 1
    assert params["host"] == "0.0.0.0"
    assert params["port"] == container["ports"][0]["containerPort"]
    # the metrics port the container declares is the one DGKB serves them on, open to the pod network
    env = env_of("dgkb-env")
    (metrics,) = [p["containerPort"] for p in container["ports"] if p["name"] == "metrics"]
    assert int(env["DGKB_METRICS_PORT"]) == metrics
    assert env["DGKB_METRICS_HOST"] == "0.0.0.0"
    commands = typer.main.get_command(cli).commands
    for spec in pod_specs():
        (other,) = spec["containers"]
        assert other["image"] == container["image"], other["name"]
        group, *rest = other["args"]
        command = commands[group]
        if rest and hasattr(command, "commands"):  # `audit verify`
            command, rest = command.commands[rest[0]], rest[1:]
        command.make_context(group, rest)  # raises on a command or option the CLI does not have
    args = sorted(tuple(spec["containers"][0]["args"][:2]) for spec in pod_specs())
    assert args == [("audit", "verify"), ("migrate",), ("run", "--workers")]


def test_service_autoscaler_and_disruption_budget_fit_the_deployment() -> None:
    deployment = one("Deployment")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    service = one("Service")
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert service["spec"]["ports"][0]["targetPort"] in {p["name"] for p in api_container()["ports"]}
    hpa = one("HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "dgkb"}
    assert hpa["spec"]["minReplicas"] >= 3
    assert deployment["spec"]["replicas"] >= 3
    pdb = one("PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    # a drain must always be able to proceed, and never leave fewer than two pods serving
    assert pdb["spec"]["maxUnavailable"] == 1
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_network_policy_admits_only_the_ingress_controller_and_the_needed_egress() -> None:
    policy = one("NetworkPolicy")
    assert policy["spec"]["podSelector"]["matchLabels"] == APP
    assert sorted(policy["spec"]["policyTypes"]) == ["Egress", "Ingress"]
    # the API only from the ingress controller, the metrics only from Prometheus; every rule names
    # its peers by namespace and pod (no address ranges, no rule open to all)
    allowed = {"http": ("ingress", "ingress"), "metrics": ("monitoring", "prometheus")}
    rules = policy["spec"]["ingress"]
    assert sorted(p["port"] for rule in rules for p in rule["ports"]) == sorted(allowed)
    for rule in rules:
        (port,) = [p["port"] for p in rule["ports"]]
        namespace, pod = allowed[port]
        assert rule["from"], port
        for peer in rule["from"]:
            assert "ipBlock" not in peer
            assert namespace in peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
            assert pod in peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
    container_ports = {p["name"] for p in api_container()["ports"]}
    assert set(allowed) == container_ports
    egress_ports = {
        (p["port"], p.get("protocol", "TCP")) for rule in policy["spec"]["egress"] for p in rule["ports"]
    }
    for needed in ((53, "UDP"), (5432, "TCP"), (6379, "TCP"), (4222, "TCP"), (443, "TCP")):
        assert needed in egress_ports, needed
    # every egress rule names its port: nothing leaves on a port not listed above
    assert all(rule.get("ports") for rule in policy["spec"]["egress"])


def test_config_map_holds_the_files_of_config_exactly() -> None:
    data = one("ConfigMap", "dgkb-config")["data"]
    assert set(data) == set(sync.CONFIG_FILES)
    for name, text in data.items():
        assert text == (PROJECT_ROOT / "config" / name).read_text(encoding="utf-8"), (
            f"{name} differs from config/: run python deploy/kubernetes/sync_config.py"
        )


def test_generated_manifests_are_up_to_date_with_config() -> None:
    for path, text in sync.rendered().items():
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.name} is out of date: run python deploy/kubernetes/sync_config.py"
        )


def test_sources_secret_is_config_sources_with_placeholder_hosts_and_credentials() -> None:
    shipped = yaml.safe_load((PROJECT_ROOT / "config" / "sources.yaml").read_text(encoding="utf-8"))
    secret = one("Secret", "dgkb-sources")
    rendered = yaml.safe_load(secret["stringData"]["sources.yaml"])
    assert [s["id"] for s in rendered["sources"]] == [s["id"] for s in shipped["sources"]]
    for ours, theirs in zip(rendered["sources"], shipped["sources"], strict=True):
        # the same sources, categories, deadlines and purpose headers; only hosts and credentials differ
        same = {k: v for k, v in theirs.items() if k not in ("baseUrl", "auth")}
        assert {k: v for k, v in ours.items() if k not in ("baseUrl", "auth")} == same
        assert "{simulator." not in ours["baseUrl"]
        if "{simulator." in theirs["baseUrl"]:
            assert ".invalid" in ours["baseUrl"]
        for field, value in (ours.get("auth") or {}).items():
            if field in sync.SECRET_FIELDS:
                assert value == sync.PLACEHOLDER_SECRET, (ours["id"], field)
                assert is_demo_secret(value), "production must refuse the placeholder"


def test_settings_in_the_manifests_are_settings_dgkb_has() -> None:
    fields = {f"DGKB_{name.upper()}" for name in Settings.model_fields}
    env = env_of("dgkb-env", "dgkb-secrets")
    assert env, "no DGKB_ settings found"
    unknown = sorted(set(env) - fields)
    assert not unknown, f"not a DGKB setting (typo?): {unknown}"
    secret_names = set(env_of("dgkb-secrets"))
    for name in ("DGKB_PSEUDONYM_KEYS", "DGKB_DATABASE_URL", "DGKB_NOTIFICATIES_TOKEN"):
        assert name in secret_names, f"{name} belongs in the Secret"
    assert not secret_names & set(env_of("dgkb-env")), "a setting in both the ConfigMap and the Secret"
    env_froms = [
        next(iter(e.values()))["name"] for spec in pod_specs() for e in spec["containers"][0]["envFrom"]
    ]
    assert sorted(set(env_froms)) == ["dgkb-env", "dgkb-secrets"]


def test_config_volume_serves_every_file_dgkb_reads_at_the_config_dir() -> None:
    env = env_of("dgkb-env")
    spec = one("Deployment")["spec"]["template"]["spec"]
    (mount,) = [m for m in api_container()["volumeMounts"] if m["mountPath"] == env["DGKB_CONFIG_DIR"]]
    (volume,) = [v for v in spec["volumes"] if v["name"] == mount["name"]]
    served: set[str] = set()
    for source in volume["projected"]["sources"]:
        if "configMap" in source:
            served |= set(one("ConfigMap", source["configMap"]["name"])["data"])
        else:
            served |= {item["path"] for item in source["secret"]["items"]}
    needed = {p.name for p in Settings(config_dir=Path(env["DGKB_CONFIG_DIR"])).config_files.values()}
    assert needed | {"onderwerpen.yaml"} <= served


def _manifest_settings(tmp_path: Path, secrets_env: dict[str, str]) -> Settings:
    """Settings as a pod of the Deployment gets them: the env ConfigMap and the given Secret values,
    with the configuration the projected volume mounts (written to a directory here)."""
    config = tmp_path / "etc-dgkb"
    config.mkdir()
    for name, text in one("ConfigMap", "dgkb-config")["data"].items():
        (config / name).write_text(text, encoding="utf-8")
    (config / "sources.yaml").write_text(one("Secret", "dgkb-sources")["stringData"]["sources.yaml"])
    values: dict[str, Any] = {
        key.removeprefix("DGKB_").lower(): value
        for key, value in {**env_of("dgkb-env"), **secrets_env}.items()
    }
    values["config_dir"] = config
    values["database_url"] = f"sqlite+aiosqlite:///{tmp_path}/dgkb.sqlite3"
    return Settings(**values)


def test_production_refuses_to_start_with_the_placeholders(tmp_path: Path) -> None:
    settings = _manifest_settings(tmp_path, env_of("dgkb-secrets"))
    assert settings.env is Environment.PRODUCTION
    with pytest.raises(InvalidConfiguration) as refused:
        create_app(settings)
    message = refused.value.message
    for name in ("DGKB_PSEUDONYM_KEYS", "DGKB_NOTIFICATIES_TOKEN", "DGKB_NOTIFY_API_KEY", "sources.yaml"):
        assert name in message, (name, message)


def test_with_real_secrets_the_manifests_configuration_starts_in_production(tmp_path: Path) -> None:
    """Replace the placeholders (as an operator must) and the configuration of the manifests is a
    complete production configuration: the app is built without complaint."""
    real = {
        key: f"echt-{secrets.token_urlsafe(24)}"
        for key, value in env_of("dgkb-secrets").items()
        if is_demo_secret(value)
    }
    real["DGKB_PSEUDONYM_KEYS"] = f"sleutel-1:{secrets.token_urlsafe(32)}"
    real["DGKB_NOTIFY_API_KEY"] = f"dgkb-{uuid.uuid4()}-{uuid.uuid4()}"
    settings = _manifest_settings(tmp_path, real)
    sources = settings.config_dir / "sources.yaml"
    sources.write_text(
        sources.read_text().replace(sync.PLACEHOLDER_SECRET, f"echt-{secrets.token_urlsafe(24)}")
    )
    application = create_app(settings)
    assert application.title
