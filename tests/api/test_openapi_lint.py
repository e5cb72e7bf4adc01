"""The generated OpenAPI document passes the official NL API Design Rules linter without errors.

Runs `spectral lint` with ../shared/reference/api-design-rules/linter.yaml through npx (needs Node.js;
the package comes from the npm registry on first use, in CI too). Warnings are reported, not fatal.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from dgkb.app import create_app
from dgkb.settings import Environment, Settings

SPECTRAL = "@stoplight/spectral-cli@6"
ERROR = 0  # spectral severities: 0 error, 1 warn, 2 info, 3 hint


def generated_openapi(tmp_path: Path) -> dict[str, Any]:
    settings = Settings(env=Environment.TEST, database_url=f"sqlite+aiosqlite:///{tmp_path / 'lint.sqlite3'}")
    return create_app(settings).openapi()


def spectral(ruleset: Path, document: Path) -> list[dict[str, Any]]:
    npx = shutil.which("npx")
    if npx is None:
        pytest.skip("npx (Node.js) is not installed; the NL API Design Rules linter runs on Spectral")
    proc = subprocess.run(
        [npx, "--yes", SPECTRAL, "lint", "-r", str(ruleset), "-f", "json", "--quiet", str(document)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # Exit code 1 just means "there are findings at or above the fail severity"; anything else, or
    # output that is not the JSON list of findings, means the linter itself did not run.
    try:
        findings: list[dict[str, Any]] = json.loads(proc.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"spectral did not produce JSON (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    assert proc.returncode in (0, 1), proc.stderr
    return findings


def describe(finding: dict[str, Any]) -> str:
    path = ".".join(str(p) for p in finding.get("path", []))
    return f"{finding['code']} at {path or '<root>'}: {finding['message']}"


@pytest.mark.slow  # Node.js and Spectral: tens of seconds
def test_openapi_has_no_nl_api_design_rules_errors(shared_reference: Path, tmp_path: Path) -> None:
    ruleset = shared_reference / "api-design-rules" / "linter.yaml"
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(generated_openapi(tmp_path), indent=2), encoding="utf-8")

    findings = spectral(ruleset, document)

    errors = [describe(f) for f in findings if f.get("severity") == ERROR]
    warnings = [describe(f) for f in findings if f.get("severity") != ERROR]
    print(f"NL API Design Rules linter: {len(errors)} error(s), {len(warnings)} warning(s)")
    for w in warnings:
        print(f"  warning: {w}")
    assert not errors, "NL API Design Rules linter errors:\n" + "\n".join(errors)


def test_openapi_documents_the_api_not_the_dev_issuer(tmp_path: Path) -> None:
    """What the linter cannot see: the paths resolve to the real URLs, and the dev issuer is absent."""
    schema = generated_openapi(tmp_path)
    servers = schema["servers"]
    assert servers[0]["url"].endswith("/api/v1")
    assert "/contacten/{contact_id}/identificatie" in schema["paths"]
    # AuthZEN paths are prescribed by that standard: full path, served from the bare base URL.
    authzen = schema["paths"]["/access/v1/evaluation"]
    assert authzen["servers"][0]["url"] + "/api/v1" == servers[0]["url"]
    assert not any(p.startswith("/dev-issuer") for p in schema["paths"])
    for item in schema["paths"].values():
        for method, operation in item.items():
            if method == "servers":
                continue
            assert "422" not in operation["responses"], "validation errors are answered with 400"
            for code, response in operation["responses"].items():
                assert "API-Version" in response["headers"], (method, code)
