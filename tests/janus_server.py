"""A real Janus (Debian's ``janus``) for tests: a temporary configuration folder, one process, its URLs and secrets.

Only the VideoRoom plugin and the HTTP transport are loaded; token authentication is on
(stored tokens, added through the admin API), no room is preconfigured, and the VideoRoom
plugin asks for an ``admin_key`` (the admin secret) to create rooms, as docs/deploy.md
recommends for production.
"""

from __future__ import annotations

import asyncio
import glob
import json
import secrets
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.processes import free_port, stop_process, wait_until

NEEDS_JANUS = "the Janus tests need Debian's janus: sudo apt-get install janus (scripts/test.sh does it when run as root)"


def janus_library() -> Path:
    """The folder holding Janus's plugins/ and transports/ (Debian: /usr/lib/<triplet>/janus)."""
    for pattern in ("/usr/lib/*/janus", "/usr/lib/janus", "/usr/local/lib/janus", "/opt/janus/lib/janus"):
        for folder in sorted(glob.glob(pattern)):
            if Path(folder, "plugins", "libjanus_videoroom.so").exists():
                return Path(folder)
    raise RuntimeError(NEEDS_JANUS)


def others(folder: Path, keep: str) -> str:
    """A ``disable`` list: every module in ``folder`` but ``keep``."""
    return ",".join(sorted(path.name for path in folder.glob("libjanus_*.so") if path.name != keep))


@dataclass
class Janus:
    url: str  # the Janus API over HTTP, e.g. http://127.0.0.1:8088/janus
    admin_url: str  # the admin API, e.g. http://127.0.0.1:7088/admin
    admin_secret: str  # the core's admin_secret, also the VideoRoom plugin's admin_key
    rtp_ports: tuple[int, int]
    folder: Path
    process: subprocess.Popen

    @property
    def log(self) -> Path:
        return self.folder / "janus.log"

    def info(self) -> dict | None:
        try:
            with urllib.request.urlopen(f"{self.url}/info", timeout=2) as response:
                return json.loads(response.read())
        except (OSError, urllib.error.URLError, ValueError):
            return None

    def stop(self) -> None:
        stop_process(self.process)


def write_config(folder: Path, port: int, admin_port: int, admin_secret: str, rtp_ports: tuple[int, int], allow_origin: str | None) -> None:
    library = janus_library()
    (folder / "janus.jcfg").write_text(
        f"""general: {{
    configs_folder = "{folder}"
    plugins_folder = "{library / "plugins"}"
    transports_folder = "{library / "transports"}"
    events_folder = "{library / "events"}"
    loggers_folder = "{library / "loggers"}"
    debug_level = 4
    debug_colors = false
    server_name = "thirdspace-test"
    token_auth = true
    admin_secret = "{admin_secret}"
    session_timeout = 60
}}
media: {{
    rtp_port_range = "{rtp_ports[0]}-{rtp_ports[1]}"
}}
nat: {{
    nice_debug = false
    ice_ignore_list = "vmnet"
    # Browsers hide their host addresses behind mDNS names (.local) that a server cannot resolve: Janus finds
    # them anyway from the browser's connectivity checks (peer-reflexive candidates), without waiting.
    ignore_mdns = true
}}
plugins: {{
    disable = "{others(library / "plugins", "libjanus_videoroom.so")}"
}}
transports: {{
    disable = "{others(library / "transports", "libjanus_http.so")}"
}}
loggers: {{
    disable = "{others(library / "loggers", "")}"
}}
events: {{
    broadcast = false
}}
""",
        "utf-8",
    )
    # Not enforce_cors: it also refuses requests without an Origin header, like the Third Space server's own.
    cors = f'allow_origin = "{allow_origin}"' if allow_origin else ""
    (folder / "janus.transport.http.jcfg").write_text(
        f"""general: {{
    json = "compact"
    base_path = "/janus"
    http = true
    port = {port}
    ip = "127.0.0.1"
    https = false
}}
admin: {{
    admin_base_path = "/admin"
    admin_http = true
    admin_port = {admin_port}
    admin_ip = "127.0.0.1"
    admin_https = false
}}
cors: {{
    {cors}
}}
""",
        "utf-8",
    )
    (folder / "janus.plugin.videoroom.jcfg").write_text(
        f"""general: {{
    admin_key = "{admin_secret}"
}}
""",
        "utf-8",
    )


def start_janus(
    folder: Path,
    allow_origin: str | None = None,
    timeout: float = 20.0,
    like: Janus | None = None,
) -> Janus:
    """Write a configuration into ``folder``, start ``janus`` on it and wait until its /info answers.

    ``allow_origin``: the page's origin, which Janus then names in Access-Control-Allow-Origin
    (so browsers refuse to let other sites' pages use it). None: any origin (Janus's ``*``).
    ``like``: a stopped Janus whose ports and admin secret to use again (a restart).
    """
    binary = shutil.which("janus")
    if binary is None:
        raise RuntimeError(NEEDS_JANUS)
    if like is None:
        port, admin_port = free_port(), free_port()
        start = 20000 + secrets.randbelow(200) * 100
        rtp_ports = (start, start + 99)
        admin_secret = secrets.token_urlsafe(16)
    else:
        port, admin_port = int(like.url.split(":")[2].split("/")[0]), int(like.admin_url.split(":")[2].split("/")[0])
        rtp_ports, admin_secret = like.rtp_ports, like.admin_secret
    write_config(folder, port, admin_port, admin_secret, rtp_ports, allow_origin)
    log = open(folder / "janus.log", "ab")  # noqa: SIM115 (the process keeps writing to it)
    process = subprocess.Popen(
        [binary, "--configs-folder", str(folder), "--config", str(folder / "janus.jcfg"), "--disable-colors"],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=folder,
    )
    log.close()
    janus = Janus(
        url=f"http://127.0.0.1:{port}/janus",
        admin_url=f"http://127.0.0.1:{admin_port}/admin",
        admin_secret=admin_secret,
        rtp_ports=rtp_ports,
        folder=folder,
        process=process,
    )
    try:
        wait_until(lambda: process.poll() is not None or janus.info() is not None, timeout, "janus answering /info")
    except TimeoutError:
        janus.stop()
        raise
    if process.poll() is not None:
        raise RuntimeError(f"janus exited with {process.returncode}:\n{janus.log.read_text()[-3000:]}")
    # The admin API comes up with the same transport; make sure it answers too before handing it out.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            body = json.dumps({"janus": "ping", "transaction": "up", "admin_secret": admin_secret}).encode()
            request = urllib.request.Request(janus.admin_url, body, {"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=2) as response:
                if json.loads(response.read()).get("janus") == "pong":
                    break
        except (OSError, ValueError):
            time.sleep(0.05)
    return janus


class JanusVisitor:
    """A visitor's side of the Janus API over HTTP, without media: what the page's voice-janus.js does."""

    def __init__(self, http, url: str, token: str):
        self.http = http  # an aiohttp.ClientSession
        self.url = url
        self.token = token
        self.session: int | None = None
        self.pending: list[dict] = []

    async def post(self, path: str, body: dict) -> dict:
        message = {**body, "transaction": secrets.token_hex(6), "token": self.token}
        async with self.http.post(self.url + path, json=message) as response:
            return await response.json(content_type=None)

    async def create(self) -> dict:
        """Open a session; the answer (``success``, or ``error`` 403 for a token Janus does not know)."""
        answer = await self.post("", {"janus": "create"})
        if answer.get("janus") == "success":
            self.session = answer["data"]["id"]
        return answer

    async def attach(self) -> int:
        answer = await self.post(f"/{self.session}", {"janus": "attach", "plugin": "janus.plugin.videoroom"})
        assert answer["janus"] == "success", answer
        return answer["data"]["id"]

    async def message(self, handle: int, body: dict, timeout: float = 10.0) -> dict:
        """A VideoRoom request on ``handle``: its plugin data, waiting for the event when Janus answers ``ack``."""
        answer = await self.post(f"/{self.session}/{handle}", {"janus": "message", "body": body})
        if answer.get("janus") == "success":
            return answer["plugindata"]["data"]
        assert answer.get("janus") == "ack", answer
        return await self.event(handle, answer["transaction"], timeout)

    async def event(self, handle: int, transaction: str | None = None, timeout: float = 10.0) -> dict:
        """The next VideoRoom event on ``handle`` (for ``transaction`` if given), by long polling.

        Events for other handles or transactions are kept for later calls.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for event in self.pending:
                if event.get("sender") == handle and transaction in (None, event.get("transaction")):
                    self.pending.remove(event)
                    return event["plugindata"]["data"]
            if loop.time() > deadline:
                raise TimeoutError(f"no event on handle {handle} within {timeout} s")
            params = {"maxev": "10", "token": self.token, "rid": secrets.token_hex(4)}
            async with self.http.get(f"{self.url}/{self.session}", params=params) as response:
                events = await response.json(content_type=None)
            for event in events if isinstance(events, list) else [events]:
                if event.get("janus") == "event" and "plugindata" in event:
                    self.pending.append(event)
