"""The deployment files agree with the code: docker-compose.yml, Dockerfile, .dockerignore, docs/deploy.md.

Docker cannot run here, so the compose file is checked as data: services, health checks, start order,
and every ``OFFBOARD_*`` variable parsed by the real ``Settings``.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from vault.config import Settings, get_settings

ROOT = Path(__file__).resolve().parents[2]
SECRET = "placeholder-secret"
AWS_VARIABLES = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"}
_VARIABLE = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def interpolate(value: str) -> str:
    """Compose's ``${VAR:-default}`` / ``${VAR:?message}`` as on a machine with only the secrets set."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":  # an escaped dollar, left for the container's shell
            return "$"
        op = match.group("op") or ""
        if op.endswith("-"):
            return match.group("arg")
        if op.endswith("?"):
            return SECRET
        raise AssertionError(f"expected a default or a required marker for ${{{match.group('name')}}}")

    return _VARIABLE.sub(replace, value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = compose["services"]
    return found


def env(service: dict[str, Any]) -> dict[str, str]:
    environment = service["environment"]
    assert isinstance(environment, dict), "environment must be a mapping (NAME: value)"
    return {name: interpolate(str(value)) for name, value in environment.items()}


def script(service: dict[str, Any]) -> list[list[str]]:
    """The minio-init shell script, one tokenized command per line (comments dropped)."""
    text = "\n".join(service["command"])
    return [shlex.split(line, comments=True) for line in text.splitlines() if shlex.split(line, comments=True)]


def test_the_four_services_exist(services: dict[str, Any]) -> None:
    assert set(services) == {"app", "postgres", "minio", "minio-init"}
    assert services["postgres"]["image"] == "postgres:15"
    assert services["minio"]["image"].startswith("minio/minio:")
    assert services["minio-init"]["image"].startswith("minio/mc:")
    assert services["app"]["build"] == "."


def test_long_running_services_have_health_checks(services: dict[str, Any]) -> None:
    for name in ("app", "postgres", "minio"):
        check = services[name]["healthcheck"]
        assert check["test"][0] in {"CMD", "CMD-SHELL"}, name
        assert check["retries"] >= 1, name
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["minio"]["healthcheck"]["test"][1:] == ["mc", "ready", "local"]
    app_check = " ".join(services["app"]["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/healthz" in app_check


def test_start_order_waits_for_health_and_the_bucket(services: dict[str, Any]) -> None:
    assert services["app"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "minio": {"condition": "service_healthy"},
        "minio-init": {"condition": "service_completed_successfully"},
    }
    assert services["minio-init"]["depends_on"] == {"minio": {"condition": "service_healthy"}}
    assert "restart" not in services["minio-init"], "a one-shot job must not be restarted"


def test_app_variables_are_settings_fields_or_standard_aws_names(services: dict[str, Any]) -> None:
    fields = set(Settings.model_fields)
    for name in env(services["app"]):
        if name.startswith("AWS_"):
            assert name in AWS_VARIABLES, f"{name} is not a variable boto3 reads"
        else:
            assert name.startswith("OFFBOARD_"), f"{name} is neither OFFBOARD_* nor AWS_*"
            assert name.removeprefix("OFFBOARD_").lower() in fields, f"{name} is not a field of Settings"
    assert AWS_VARIABLES <= set(env(services["app"]))


def test_app_environment_builds_scale_out_settings(services: dict[str, Any]) -> None:
    values = env(services["app"])
    overrides = {k.removeprefix("OFFBOARD_").lower(): v for k, v in values.items() if k.startswith("OFFBOARD_")}
    settings = get_settings(**overrides)
    assert settings.resolved_database_url.startswith("postgresql+psycopg://")
    assert settings.resolved_storage_url == "s3://offboard/vault"
    assert settings.s3_endpoint_url == "http://minio:9000"
    assert settings.s3_object_lock_days is not None and settings.s3_object_lock_days >= 1
    assert settings.home == Path("/data")
    assert settings.host == "0.0.0.0"  # noqa: S104 - inside the container, published on loopback below
    assert "offboard-data:/data" in services["app"]["volumes"]
    assert services["app"]["ports"] == ["127.0.0.1:8000:8000"]


def test_database_url_matches_the_postgres_service(services: dict[str, Any]) -> None:
    pg = env(services["postgres"])
    url = urlsplit(env(services["app"])["OFFBOARD_DATABASE_URL"])
    assert (url.hostname, url.port) == ("postgres", 5432)
    assert url.username == pg["POSTGRES_USER"]
    assert url.password == pg["POSTGRES_PASSWORD"] == SECRET
    assert url.path == "/" + pg["POSTGRES_DB"]


def test_app_credentials_are_the_user_that_minio_init_creates(services: dict[str, Any]) -> None:
    app, init = env(services["app"]), env(services["minio-init"])
    assert app["AWS_ACCESS_KEY_ID"] == init["APP_ACCESS_KEY"]
    assert app["AWS_SECRET_ACCESS_KEY"] == init["APP_SECRET_KEY"]
    assert app["AWS_ACCESS_KEY_ID"] != env(services["minio"])["MINIO_ROOT_USER"], "the app must not be root"


def test_minio_init_creates_a_locked_bucket_without_default_retention(services: dict[str, Any]) -> None:
    commands = script(services["minio-init"])
    bucket = urlsplit(env(services["app"])["OFFBOARD_STORAGE_URL"]).netloc
    assert ["mc", "mb", "--ignore-existing", "--with-lock", f"local/{bucket}"] in commands
    assert ["mc", "retention", "clear", "--default", f"local/{bucket}"] in commands
    assert not [c for c in commands if c[:3] == ["mc", "retention", "set"]], "no bucket-wide retention"
    assert services["minio-init"]["entrypoint"] == ["/bin/sh", "-ec"], "a failing step must fail the job"


def test_secrets_have_no_defaults(compose: dict[str, Any]) -> None:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    for secret in ("POSTGRES_PASSWORD", "MINIO_ROOT_PASSWORD", "OFFBOARD_S3_SECRET_KEY"):
        uses = [m for m in _VARIABLE.finditer(text) if m.group("name") == secret]
        assert uses, secret
        assert all((m.group("op") or "").endswith("?") for m in uses), f"{secret} must be required, not defaulted"
    assert compose["services"]


def test_named_volumes_are_declared(compose: dict[str, Any], services: dict[str, Any]) -> None:
    used = {
        mount.split(":", 1)[0]
        for service in services.values()
        for mount in service.get("volumes", [])
        if not mount.startswith((".", "/"))
    }
    assert used == {"postgres-data", "minio-data", "offboard-data"}
    assert used <= set(compose["volumes"])


def dockerfile() -> list[str]:
    return (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()


def test_dockerfile_installs_the_lock_then_the_project_without_deps() -> None:
    lines = dockerfile()
    assert lines[[i for i, line in enumerate(lines) if line.startswith("FROM")][0]] == "FROM python:3.11-slim"
    runs = [line for line in lines if line.startswith("RUN pip install")]
    assert runs == ["RUN pip install -r requirements.lock", "RUN pip install --no-deps -e ."]
    assert 'CMD ["sh", "-c", "offboard init && exec offboard serve --host 0.0.0.0"]' in lines
    assert "USER offboard" in lines


def test_dockerfile_copies_existing_paths_and_every_package() -> None:
    sources = [shlex.split(line)[1:-1] for line in dockerfile() if line.startswith("COPY")]
    flat = [source for group in sources for source in group]
    missing = [source for source in flat if not (ROOT / source).exists()]
    assert not missing, f"COPY sources missing from the repository: {missing}"
    for package in ("vault", "signing", "storage", "api", "templates"):
        assert package in flat, f"the image lacks {package}/"


def test_dockerignore_keeps_data_keys_and_environment_out() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    for entry in (".git", ".venv", "offboard-data", ".env", "*.key"):
        assert entry in ignored, entry


def test_deploy_doc_mentions_every_setting() -> None:
    doc = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"`OFFBOARD_{name.upper()}`" not in doc]
    assert not missing, f"docs/deploy.md does not document: {missing}"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("${A:-x}", "x"), ("${A-}", ""), ("${A:?say}", SECRET), ("a$${B}", "a${B}"), ("plain", "plain")],
)
def test_interpolate_reads_compose_syntax(raw: str, expected: str) -> None:
    assert interpolate(raw) == expected


def test_interpolate_refuses_a_bare_variable() -> None:
    with pytest.raises(AssertionError, match="expected a default or a required marker"):
        interpolate("${UNSET}")
