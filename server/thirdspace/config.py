"""Settings: defaults, then a TOML file, then ``THIRDSPACE_*`` environment
variables, then command-line options.  Nothing else reads the environment."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _project_dir(name: str) -> Path:
    return PROJECT_ROOT / name


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = field(default_factory=lambda: Path("data"))
    scenes_dir: Path = field(default_factory=lambda: _project_dir("scenes"))
    assets_dir: Path = field(default_factory=lambda: _project_dir("assets"))
    client_dir: Path = field(default_factory=lambda: _project_dir("web_client") / "dist")
    tick_hz: float = 20.0
    max_speed_mps: float = 10.0
    teleport_range_m: float = 12.0
    interest_radius_m: float = 30.0
    max_visible: int = 64
    snapshot_budget_bytes: int = 1200
    chat_history: int = 100
    chat_burst: int = 5
    chat_per_s: float = 0.5  # after a burst of chat_burst lines, about one line every 2 s
    translator: str = "none"  # none, libretranslate or argos (see docs/chat.md)
    translator_url: str = ""  # a LibreTranslate-compatible server, for translator = "libretranslate"
    translator_api_key: str = ""
    translator_timeout_s: float = 5.0
    translator_concurrency: int = 4  # translation requests in flight at once, for the whole server
    resume_window_s: float = 30.0  # a visitor whose connection drops keeps their place this long
    send_queue_messages: int = 256  # control messages queued for one connection before it is closed
    max_errors: int = 20  # error replies before a misbehaving connection is closed
    quantise_max_error_mm: float = 0.5  # quantise vertex positions only when no vertex moves further
    import_max_file_mb: float = 32.0  # the largest model a curator or a generator service may add
    generator_url: str = ""  # an external text-to-3D service (see docs/assets.md); empty: recipes only
    allowed_origins: str = ""  # comma-separated origins allowed to open /ws from a browser; empty: this server's own
    session_hours: float = 12.0  # how long a curator's sign-in cookie lasts
    log_level: str = "INFO"
    log_format: str = "text"  # text, or json: one JSON object per line with request and room ids
    database_url: str = ""  # postgresql://USER:PASSWORD@HOST:PORT/DB for nodes on several machines; empty: SQLite in data_dir
    database_readers: int = 2  # SQLite: reader connections beside the one writer, each in a thread of its own
    database_pool_size: int = 4  # PostgreSQL: this node's pool of connections, each driven by a thread of its own
    asset_workers: int = 1  # processes that check, build and optimise assets; each takes a core while it works
    asset_queue: int = 4  # asset jobs that may wait for a worker; a request beyond that gets 503 with Retry-After
    asset_worker_memory_mb: int = 4096  # each asset worker's memory (RLIMIT_DATA); a job needing more fails with 413; 0: no limit
    asset_job_cpu_s: int = 600  # processor seconds one asset job may use; 0: no limit
    redis_url: str = ""  # cluster mode (docs/deploy.md): redis://HOST:PORT/DB; empty: one process on its own
    public_url: str = ""  # where browsers reach this node's WebSocket in a cluster; default ws://HOST:PORT/ws
    node_name: str = ""  # this node's id in the cluster; default HOSTNAME-PORT-PID
    drain_timeout_s: float = 10.0  # on SIGTERM, the longest a node takes to send its visitors elsewhere

    @classmethod
    def load(cls, config_file: Path | None = None, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        values: dict[str, Any] = {}
        if config_file is not None:
            with open(config_file, "rb") as fh:
                values.update(tomllib.load(fh))
        environ = os.environ if environ is None else environ
        for f in dataclasses.fields(cls):
            key = f"THIRDSPACE_{f.name.upper()}"
            if key in environ:
                values[f.name] = environ[key]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls._coerce(values)

    @classmethod
    def _coerce(cls, values: dict[str, Any]) -> Settings:
        kinds = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(kinds))
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(unknown)}")
        out: dict[str, Any] = {}
        for name, value in values.items():
            default = kinds[name].default if kinds[name].default is not dataclasses.MISSING else kinds[name].default_factory()
            try:
                out[name] = Path(value) if isinstance(default, Path) else type(default)(value)
            except (TypeError, ValueError):
                raise ValueError(f"setting {name}: cannot use {value!r} as {type(default).__name__}") from None
        return cls(**out)
