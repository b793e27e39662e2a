"""docker/compose.yaml, as Docker Compose itself reads it.

Each test runs ``docker-compose -f docker/compose.yaml config`` (Debian 12's
docker-compose 1.29.2, which validates against the Compose schema and prints
the normalised file) and checks the two-node cluster it describes: both
nodes reach Redis and Postgres by service name, wait for them to be healthy,
share one asset volume, and publish the address a browser reaches them on.
No Docker engine is needed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from thirdspace.config import PROJECT_ROOT

COMPOSE_FILE = PROJECT_ROOT / "docker" / "compose.yaml"
NODES = ("node-a", "node-b")
MISSING = (
    "docker-compose is not installed, so docker/compose.yaml cannot be validated: "
    "install Debian's docker-compose: apt-get install docker-compose; "
    "scripts/test.sh does this when run as root"
)


def docker_compose() -> str:
    """The docker-compose executable; its absence fails the test (it is not a fixture,
    so a missing tool shows as a FAILED test rather than a setup error)."""
    exe = shutil.which("docker-compose")
    if exe is None:
        pytest.fail(MISSING, pytrace=False)
    return exe


def compose_config(compose_file: Path, cwd: Path, env_file: Path, **environ: str) -> subprocess.CompletedProcess:
    """``docker-compose config`` with a known environment: no stray POSTGRES_PASSWORD,
    COMPOSE_* variable or docker/.env can change what it prints."""
    # Debian's docker-compose runs on the system python3: keep this interpreter's paths out of it.
    dropped = {"POSTGRES_PASSWORD", "PYTHONPATH", "PYTHONHOME"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_") and k not in dropped}
    env.update(environ)
    return subprocess.run(
        [docker_compose(), "--env-file", str(env_file), "-f", str(compose_file), "config"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def empty_env_file(tmp_path) -> Path:
    path = tmp_path / "empty.env"
    path.write_text("")
    return path


def normalised(cwd: Path, env_file: Path, **environ: str) -> dict:
    result = compose_config(COMPOSE_FILE, cwd, env_file, **environ)
    assert result.returncode == 0, f"docker-compose config rejected {COMPOSE_FILE}:\n{result.stderr}"
    config = yaml.safe_load(result.stdout)
    assert isinstance(config, dict) and "services" in config, result.stdout
    return config


def cluster(tmp_path: Path) -> dict:
    """The normalised file, read from a directory other than the repository root
    (paths resolve from the file, not the working directory)."""
    env_file = tmp_path / "empty.env"
    env_file.write_text("")
    return normalised(tmp_path, env_file)


def volume_mounts(service: dict) -> dict[str, str]:
    """Target path -> source, from the short ("src:dst[:mode]") or long form."""
    mounts = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, target = volume.split(":")[:2]
        else:
            source, target = volume.get("source"), volume["target"]
        mounts[target] = source
    return mounts


def published_ports(service: dict) -> dict[int, int]:
    """Container port -> host port, from the short ("host:container") or long form."""
    ports = {}
    for port in service.get("ports", []):
        if isinstance(port, dict):
            ports[int(port["target"])] = int(port["published"])
        else:
            host, container = str(port).rsplit(":", 2)[-2:]
            ports[int(container)] = int(host)
    return ports


def healthcheck_command(service: dict) -> str:
    test = service.get("healthcheck", {}).get("test")
    assert test, f"no healthcheck: {service}"
    return " ".join(test) if isinstance(test, list) else test


def test_compose_file_is_valid_from_the_repository_root_too(empty_env_file):
    config = normalised(PROJECT_ROOT, empty_env_file)
    assert set(config["services"]) >= {"redis", "postgres", *NODES}


def test_redis_and_postgres_have_healthchecks_and_postgres_keeps_its_data(tmp_path):
    config = cluster(tmp_path)
    services = config["services"]
    redis, postgres = services["redis"], services["postgres"]
    assert redis["image"] in ("redis:7-bookworm", "redis:7-alpine")
    assert "redis-cli ping" in healthcheck_command(redis)

    assert postgres["image"] == "postgres:15"
    env = postgres["environment"]
    assert env["POSTGRES_DB"] and env["POSTGRES_USER"] and env["POSTGRES_PASSWORD"]
    assert "pg_isready" in healthcheck_command(postgres)
    data = volume_mounts(postgres).get("/var/lib/postgresql/data")
    assert data in config.get("volumes", {}), "Postgres data should live on a named volume"


def test_both_nodes_are_built_from_the_dockerfile(tmp_path):
    config = cluster(tmp_path)
    for name in NODES:
        build = config["services"][name]["build"]
        context = Path(build["context"])
        assert context.resolve() == PROJECT_ROOT.resolve(), build
        assert (context / build.get("dockerfile", "Dockerfile")).resolve() == (PROJECT_ROOT / "docker" / "Dockerfile").resolve()


def test_nodes_wait_for_healthy_redis_and_postgres(tmp_path):
    config = cluster(tmp_path)
    for name in NODES:
        depends_on = config["services"][name]["depends_on"]
        for dependency in ("redis", "postgres"):
            assert depends_on[dependency]["condition"] == "service_healthy", (name, depends_on)


def test_nodes_reach_redis_and_postgres_by_service_name(tmp_path):
    config = cluster(tmp_path)
    services = config["services"]
    postgres = services["postgres"]["environment"]
    for name in NODES:
        env = services[name]["environment"]
        redis_url = urlsplit(env["THIRDSPACE_REDIS_URL"])
        assert redis_url.scheme == "redis" and redis_url.hostname == "redis", env["THIRDSPACE_REDIS_URL"]
        assert redis_url.port in (None, 6379)

        database_url = urlsplit(env["THIRDSPACE_DATABASE_URL"])
        assert database_url.scheme in ("postgresql", "postgres"), env["THIRDSPACE_DATABASE_URL"]
        assert database_url.hostname == "postgres" and database_url.port in (None, 5432)
        assert database_url.username == postgres["POSTGRES_USER"]
        assert database_url.password == postgres["POSTGRES_PASSWORD"]
        assert database_url.path == "/" + postgres["POSTGRES_DB"]


def test_postgres_password_comes_from_the_environment(empty_env_file, tmp_path):
    config = normalised(tmp_path, empty_env_file, POSTGRES_PASSWORD="s3cret")
    assert config["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"] == "s3cret"
    for name in NODES:
        assert urlsplit(config["services"][name]["environment"]["THIRDSPACE_DATABASE_URL"]).password == "s3cret"


def test_nodes_share_one_named_data_volume(tmp_path):
    config = cluster(tmp_path)
    services = config["services"]
    sources = set()
    for name in NODES:
        env = services[name]["environment"]
        data_dir = env["THIRDSPACE_DATA_DIR"]
        source = volume_mounts(services[name]).get(data_dir)
        assert source, f"{name} mounts nothing at its THIRDSPACE_DATA_DIR {data_dir}"
        sources.add(source)
    assert len(sources) == 1, f"the nodes mount different data volumes: {sources}"
    (source,) = sources
    assert source == "thirdspace-data" and source in config.get("volumes", {})


def test_each_node_publishes_the_address_a_browser_reaches_it_on(tmp_path):
    config = cluster(tmp_path)
    services = config["services"]
    seen_urls, seen_names, seen_ports = set(), set(), set()
    for name in NODES:
        service = services[name]
        env = service["environment"]
        assert env["THIRDSPACE_HOST"] == "0.0.0.0"
        port = int(env["THIRDSPACE_PORT"])
        host_port = published_ports(service).get(port)
        assert host_port, f"{name} does not publish its THIRDSPACE_PORT {port}: {service.get('ports')}"

        public = urlsplit(env["THIRDSPACE_PUBLIC_URL"])
        assert public.scheme in ("ws", "wss") and public.hostname == "localhost" and public.path == "/ws", env["THIRDSPACE_PUBLIC_URL"]
        assert public.port == host_port, f"{name}: public URL {env['THIRDSPACE_PUBLIC_URL']} but published on {host_port}"
        assert env["THIRDSPACE_NODE_NAME"] == name

        seen_urls.add(env["THIRDSPACE_PUBLIC_URL"])
        seen_names.add(env["THIRDSPACE_NODE_NAME"])
        seen_ports.add(host_port)
    assert len(seen_urls) == len(seen_names) == len(seen_ports) == len(NODES)
    assert seen_ports == {8081, 8082}
    # A page loaded from either node may be sent to the other: each node accepts both pages' origins.
    page_origins = {f"http://localhost:{port}" for port in seen_ports}
    for name in NODES:
        assert set(services[name]["environment"]["THIRDSPACE_ALLOWED_ORIGINS"].split(",")) == page_origins


def test_nodes_report_readiness_and_drain_before_stopping(tmp_path):
    config = cluster(tmp_path)
    for name in NODES:
        service = config["services"][name]
        port = service["environment"]["THIRDSPACE_PORT"]
        assert f"http://127.0.0.1:{port}/readyz" in healthcheck_command(service)
        assert service["stop_grace_period"] == "20s"
        assert service["restart"] == "unless-stopped"


BROKEN = {
    "unknown top-level key": lambda text: text + "\nclusterr:\n  nodes: 2\n",
    "unknown service option": lambda text: text.replace("\n  node-b:\n", "\n  node-b:\n    stop_grace_periodd: 20s\n", 1),
    "misspelt depends_on condition": lambda text: text.replace("condition: service_healthy", "condition: service_healty"),
}


@pytest.mark.parametrize("breakage", BROKEN)
def test_the_validator_rejects_a_broken_copy(empty_env_file, tmp_path, breakage):
    text = COMPOSE_FILE.read_text("utf-8")
    broken_text = BROKEN[breakage](text)
    assert broken_text != text, f"the {breakage} edit no longer applies to {COMPOSE_FILE}"
    broken = tmp_path / "docker" / "compose.yaml"
    broken.parent.mkdir()
    broken.write_text(broken_text, "utf-8")

    result = compose_config(broken, tmp_path, empty_env_file)
    assert result.returncode != 0, f"docker-compose accepted a compose file with an {breakage}:\n{result.stdout}"
    assert "invalid" in result.stderr.lower() or "unsupported" in result.stderr.lower(), result.stderr
