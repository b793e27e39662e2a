"""Building the browser client (three.js, bundled with esbuild through npm)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from thirdspace.config import PROJECT_ROOT

CLIENT_SOURCE = PROJECT_ROOT / "web_client"


class ClientBuildError(RuntimeError):
    pass


def _newest_source_mtime(source: Path) -> float:
    files = [source / "package.json", source / "package-lock.json", source / "build.mjs"]
    files += [p for d in ("src", "public") for p in (source / d).rglob("*") if p.is_file()]
    return max((p.stat().st_mtime for p in files if p.exists()), default=0.0)


def needs_build(source: Path = CLIENT_SOURCE) -> bool:
    stamp = source / "dist" / ".built"
    return not stamp.exists() or stamp.stat().st_mtime < _newest_source_mtime(source)


def build(source: Path = CLIENT_SOURCE, log=print) -> None:
    """Install the client's npm packages and bundle it into ``source/dist``."""
    if not (source / "package.json").is_file():
        raise ClientBuildError(f"no web client sources at {source}")
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise ClientBuildError(
            "Node.js 20 and npm are needed to build the web client; install them "
            "(Debian: apt-get install nodejs npm) and run the command again"
        )
    install = [npm, "ci" if (source / "package-lock.json").exists() else "install", "--no-audit", "--no-fund"]
    for command in (install, [npm, "run", "build"]):
        log(f"npm {' '.join(command[1:])}")
        result = subprocess.run(command, cwd=source, capture_output=True, text=True)
        if result.returncode != 0:
            raise ClientBuildError(f"`npm {' '.join(command[1:])}` failed in {source}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    (source / "dist" / ".built").touch()
