"""Settings: defaults, then a TOML file, then ``THIRDSPACE_*`` environment
variables, then command-line options.  Nothing else reads the environment."""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import os
import re
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
    reimport_scenes: bool = False  # at start-up, scene files changed since they were stored become new draft revisions
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
    hello_timeout_s: float = 5.0  # a WebSocket that has not said hello by then is closed with 1008
    read_timeout_s: float = 20.0  # a visitor who leaves snapshots unread this long (but may still send) is dropped
    control_per_s: float = 40.0  # text frames (chat, signalling, ping, ...) one connection may send a second, after a burst
    control_burst: int = 200  # text frames that may come at once; beyond the rate they are dropped with rate_limited
    quantise_max_error_mm: float = 0.5  # quantise vertex positions only when no vertex moves further
    import_max_file_mb: float = 32.0  # the largest model a curator or a generator service may add
    import_max_image_side: int = 8192  # pixels a side of the largest image (texture) a model may hold
    import_max_image_pixels: int = 67_108_864  # pixels of all of one model's images together (8192 x 8192)
    generator_url: str = ""  # an external text-to-3D service (see docs/assets.md); empty: recipes only
    allowed_origins: str = ""  # comma-separated origins allowed to open /ws from a browser; empty: this server's own
    session_hours: float = 12.0  # how long a curator's sign-in cookie lasts
    mute_minutes: float = 60.0  # how long a moderator's mute lasts when they name no length (it follows the person across rooms)
    session_recheck_s: float = 5.0  # how often each node checks its signed-in visitors' accounts for revocation or removal
    trusted_proxies: str = ""  # comma-separated addresses or networks of reverse proxies whose X-Forwarded-For/-Proto are believed
    limits_exempt: str = "127.0.0.1,::1"  # addresses or networks the per-address limits spare (load tests, local monitoring)
    connections_per_address: int = 64  # open connections from one address (behind a trusted proxy: requests in progress)
    requests_per_s: float = 20.0  # new connections and requests a second from one address, after a burst
    request_burst: int = 200  # new connections and requests one address may make at once; beyond the rate: 429
    max_connections: int = 0  # beyond: only /healthz, /readyz and staff (503 to others); 0: fd limit - reserves
    connection_reserve: int = 64  # connections past max_connections kept for /healthz, /readyz, staff; then 503
    fd_reserve: int = 256  # descriptors kept for files, the store and the workers (max_connections = 0)
    json_body_max_kb: int = 4096  # the largest JSON request body (a scene document and the like); beyond: 413
    anonymous_body_kb: int = 64  # the largest body taken from someone not signed in (the sign-in); beyond: 413
    log_level: str = "INFO"
    log_format: str = "text"  # text, or json: one JSON object per line with request and room ids
    database_url: str = ""  # postgresql://USER:PASSWORD@HOST:PORT/DB for nodes on several machines; empty: SQLite in data_dir
    database_readers: int = 2  # SQLite: reader connections beside the one writer, each in a thread of its own
    database_pool_size: int = 4  # PostgreSQL: this node's pool of connections, each driven by a thread of its own
    asset_workers: int = 1  # processes that check, build and optimise assets; each takes a core while it works
    asset_queue: int = 4  # asset jobs that may wait for a worker; a request beyond that gets 503 with Retry-After
    asset_worker_memory_mb: int = 4096  # each asset worker's memory (RLIMIT_DATA); a job needing more fails with 413; 0: no limit
    asset_job_cpu_s: int = 600  # processor seconds one asset job may use; 0: no limit
    asset_job_timeout_s: int = 300  # wall-clock seconds one asset job may take before its worker is stopped (then 413); 0: no limit
    asset_max_nodes: int = 20000  # nodes one uploaded glTF file may have
    asset_max_node_depth: int = 256  # how deep an uploaded file's nodes may nest (a root node is depth 1)
    asset_max_scene_roots: int = 4096  # root nodes one scene of an uploaded file may list
    asset_max_drawn_triangles: int = 4000000  # triangles an uploaded file draws, counting a mesh once per node showing it
    redis_url: str = ""  # cluster mode (docs/deploy.md): redis://HOST:PORT/DB; empty: one process on its own
    public_url: str = ""  # where browsers reach this node's WebSocket in a cluster; default ws://HOST:PORT/ws
    node_name: str = ""  # this node's id in the cluster; default HOSTNAME-PORT-PID
    voice: str = "p2p"  # p2p (browsers connect to each other), janus (through a Janus SFU: docs/voice.md) or off
    hearing_radius_m: float = 12.0  # a voice is heard up to this far (a scene's "voice" rules may say otherwise)
    max_voices: int = 8  # voices one visitor hears at once (nearest first), besides a guide or an announcement
    ice_servers: str = ""  # comma-separated STUN/TURN URLs for browsers, e.g. stun:turn.example.org:3478,turn:turn.example.org:3478
    turn_secret: str = ""  # coturn's static-auth-secret: each visitor gets TURN credentials of their own, valid for session_hours
    voice_relay_only: bool = False  # browsers talk through TURN only, so visitors never see each other's addresses
    janus_url: str = ""  # the Janus HTTP API as this node reaches it, e.g. http://127.0.0.1:8088/janus (voice = janus)
    janus_public_url: str = ""  # the Janus HTTP API as browsers reach it; default janus_url
    janus_admin_url: str = ""  # the Janus admin API, e.g. http://127.0.0.1:7088/admin
    janus_admin_secret: str = ""  # Janus's admin_secret (janus.jcfg), to add and remove visitors' tokens
    drain_timeout_s: float = 10.0  # on SIGTERM, the longest a node takes to send its visitors elsewhere

    @classmethod
    def load(cls, config_file: Path | None = None, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}
        if config_file is not None:
            values.update(read_toml(config_file))
            sources.update(dict.fromkeys(values, str(config_file)))
        environ = os.environ if environ is None else environ
        for f in dataclasses.fields(cls):
            key = f"THIRDSPACE_{f.name.upper()}"
            if key in environ:
                values[f.name] = environ[key]
                sources[f.name] = key
        given = {k: v for k, v in overrides.items() if v is not None}
        values.update(given)
        for name in given:  # a command-line option: its own name is in the message already
            sources.pop(name, None)
        return cls._coerce(values, sources)

    @classmethod
    def _coerce(cls, values: dict[str, Any], sources: Mapping[str, str] | None = None) -> Settings:
        kinds = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(kinds))
        if unknown:
            where = sorted({(sources or {}).get(name, "") for name in unknown} - {""})
            raise SettingsError(f"unknown setting(s): {', '.join(unknown)}" + (f" (in {', '.join(where)})" if where else ""))
        out: dict[str, Any] = {}
        for name, value in values.items():
            default = kinds[name].default if kinds[name].default is not dataclasses.MISSING else kinds[name].default_factory()
            where = f" (from {sources[name]})" if sources and name in sources else ""
            try:
                out[name] = _convert(value, default)
                if name == "log_level":
                    out[name] = out[name].upper()
            except (TypeError, ValueError):
                kind = _KIND_NAMES[Path if isinstance(default, Path) else type(default)]
                raise SettingsError(f"setting {name}{where}: cannot use {value!r} as {kind}") from None
            problem = _out_of_range(name, out[name])
            if problem:
                raise SettingsError(f"setting {name}{where}: {problem}, not {value!r}")
        return cls(**out)


class SettingsError(ValueError):
    """A setting that cannot be used; the message names the setting, where it came from and why."""


def read_toml(path: Path) -> dict[str, Any]:
    """A settings file's table; a missing, unreadable or malformed file is a :class:`SettingsError` naming it."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise SettingsError(f"config file {path} not found") from None
    except IsADirectoryError:
        raise SettingsError(f"config file {path} is a folder, not a TOML file") from None
    except OSError as err:
        raise SettingsError(f"cannot read the config file {path}: {err.strerror}") from None
    except UnicodeDecodeError as err:
        raise SettingsError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    except tomllib.TOMLDecodeError as err:
        raise SettingsError(_toml_problem(path, err)) from None


def _toml_problem(path: Path, err: tomllib.TOMLDecodeError) -> str:
    """``FILE:LINE:COLUMN: what`` for a TOML syntax error, as compilers say it."""
    line = getattr(err, "lineno", None)  # Python 3.14 gives the position; before, only its message does
    column = getattr(err, "colno", None)
    message = getattr(err, "msg", None) or str(err)
    at = re.search(r" \(at line (\d+), column (\d+)\)$", message)
    if at:
        line, column = int(at[1]), int(at[2])
        message = message[: at.start()]
    elif message.endswith(" (at end of document)"):
        line = _line_count(path)
        message = message.removesuffix(" (at end of document)") + " at the end of the file"
    where = f"{path}:{line}:{column}" if line and column else f"{path}:{line}" if line else str(path)
    return f"{where}: TOML syntax error: {message[:1].lower()}{message[1:]}"


def _line_count(path: Path) -> int | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return max(1, data.count(b"\n") + (not data.endswith(b"\n")))


_BOOLEANS = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False, "off": False}
_KIND_NAMES = {bool: "true or false", str: "text", int: "a whole number", float: "a number", Path: "a path"}


def _convert(value: Any, default: Any) -> Any:
    """A TOML value or an environment variable's text, as the type of the setting's default."""
    kind = Path if isinstance(default, Path) else type(default)
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _BOOLEANS:
            return _BOOLEANS[value.strip().lower()]
        raise ValueError(value)
    if isinstance(value, bool) and kind is not bool:  # TOML true/false: never a number or a name
        raise TypeError(value)
    if kind is Path:
        if not isinstance(value, str | Path):
            raise TypeError(value)
        return Path(value)
    if kind is str:
        if not isinstance(value, str):
            raise TypeError(value)
        return value
    if kind is int:
        if isinstance(value, float):  # 8080.5 is not a port
            if not value.is_integer():
                raise ValueError(value)
            return int(value)
        return int(value)
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(value)
    return number


# The smallest value of each numeric setting (and the port's largest): a count or a duration below
# these would not make sense, or would stop the server in a place far from the setting's name.
_ABOVE_ZERO = (
    "tick_hz", "max_speed_mps", "interest_radius_m", "chat_per_s", "translator_timeout_s",
    "import_max_file_mb", "session_hours", "hearing_radius_m", "hello_timeout_s", "read_timeout_s", "control_per_s",
    "session_recheck_s",
    "requests_per_s",
)  # fmt: skip
_AT_LEAST_ONE = (
    "max_visible", "snapshot_budget_bytes", "chat_history", "chat_burst", "translator_concurrency",
    "send_queue_messages", "max_errors", "database_pool_size", "asset_workers", "max_voices", "control_burst",
    "import_max_image_side", "import_max_image_pixels",
    "asset_max_nodes", "asset_max_node_depth", "asset_max_scene_roots", "asset_max_drawn_triangles",
    "connections_per_address", "request_burst", "connection_reserve", "json_body_max_kb", "anonymous_body_kb",
)  # fmt: skip
VOICE_TRANSPORTS = ("p2p", "janus", "off")
_LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")


def _out_of_range(name: str, value: Any) -> str:
    """Why ``value`` cannot be used for setting ``name``, or ``""``."""
    if name == "port":
        return "" if 1 <= value <= 65535 else "must be a port number from 1 to 65535"
    if name == "voice":
        return "" if value in VOICE_TRANSPORTS else f"must be one of {', '.join(VOICE_TRANSPORTS)}"
    if name == "log_level":
        return "" if value in _LOG_LEVELS else f"must be one of {', '.join(_LOG_LEVELS)}"
    if name in ("trusted_proxies", "limits_exempt"):
        try:
            [ipaddress.ip_network(item.strip(), strict=False) for item in value.split(",") if item.strip()]
        except ValueError as e:
            return f"must be comma-separated addresses or networks ({e})"
        return ""
    if name in _ABOVE_ZERO:
        return "" if value > 0 else "must be more than 0"
    if name in _AT_LEAST_ONE:
        return "" if value >= 1 else "must be 1 or more"
    if isinstance(value, int | float):
        return "" if value >= 0 else "must be 0 or more"
    return ""
