"""The import direction (docs/architecture.md): the core imports only the core and plain libraries.

The core packages hold pure logic: no sockets, no files, no event loop. They may import each
other (except that ``sync``, below ``rooms``, never imports ``rooms``) and libraries such as
numpy and numba, never an I/O library or the services and edges built on top of them. Every
``import`` statement counts, at module level or inside a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "server" / "thirdspace"
CORE = ("protocol", "rooms", "sync", "scenes", "tours", "chat", "voice")
# Libraries that do I/O: the core never imports them, not even lazily.
IO_LIBRARIES = ("aiohttp", "websockets", "redis", "psycopg", "psycopg2", "sqlite3", "socket", "ssl", "asyncio", "subprocess")
# What a core package must not import from the core, on top of the rule for everything else.
CORE_EXCLUDES = {"sync": ("rooms",)}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, absolute module name) for every import in ``source``, relative imports resolved."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.append((node.lineno, name))
            # `from thirdspace import web` imports thirdspace.web
            found += [(node.lineno, f"{name}.{alias.name}") for alias in node.names if name == "thirdspace"]
    return found


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def violations(source: str, module: str, is_package: bool = False) -> list[str]:
    """What ``module`` (in a core package) imports against the rules, as readable lines."""
    package = module.split(".")[1]
    bad = []
    for line, name in imported_modules(source, module, is_package):
        if any(within(name, library) for library in IO_LIBRARIES):
            bad.append(f"{module}:{line} imports {name}, an I/O library")
        elif within(name, "thirdspace") and name != "thirdspace":
            target = name.split(".")[1]
            if target not in CORE:
                bad.append(f"{module}:{line} imports {name}, outside the core (web, services, cluster, store...)")
            elif target in CORE_EXCLUDES.get(package, ()):
                bad.append(f"{module}:{line} imports {name}: {package} sits below {target}")
    return bad


def core_modules() -> list[Path]:
    return sorted(path for package in CORE for path in (PACKAGE / package).rglob("*.py"))


def test_the_core_packages_exist():
    assert all((PACKAGE / package / "__init__.py").is_file() for package in CORE)
    assert len(core_modules()) > len(CORE)


@pytest.mark.parametrize("path", core_modules(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_core_modules_import_only_the_core_and_plain_libraries(path: Path):
    assert violations(path.read_text("utf-8"), module_name(path), path.name == "__init__.py") == []


@pytest.mark.parametrize(
    "source",
    [
        "import aiohttp",
        "from aiohttp import web",
        "import redis.asyncio as redis",
        "from psycopg import sql",
        "import sqlite3",
        "import websockets.asyncio.client",
        "def later():\n    import asyncio",
        "from thirdspace.web.hub import Hub",
        "from thirdspace import services",
        "from thirdspace.cluster.node import Cluster",
        "import thirdspace.store",
        "from thirdspace.rooms import room",
        "from ...rooms import room",
    ],
)
def test_the_check_sees_a_forbidden_import(source: str):
    assert violations(source, "thirdspace.sync.example.kernel") != []


@pytest.mark.parametrize(
    "source",
    ["import numpy as np", "from numba import njit", "from thirdspace.protocol.constants import FLAG_ACK", "from . import kernels"],
)
def test_the_check_lets_the_core_import_the_core(source: str):
    assert violations(source, "thirdspace.sync.engine") == []
