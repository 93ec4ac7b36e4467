"""The install contract: every dependency resolves from a package registry, by exact version."""

from __future__ import annotations

import re
import tomllib

from bot.settings import PROJECT_ROOT

PINNED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)$")


def _pin(requirement: str, where: str) -> tuple[str, str]:
    """(normalized name, version) of a `name==version` pin; a direct reference (a local
    wheel path, a URL) only installs on the machine that resolved it."""
    match = PINNED.match(requirement.strip())
    assert match, f"{where}: not a name==version pin: {requirement!r}"
    return re.sub(r"[-_.]+", "-", match.group(1)).lower(), match.group(2)


def _lock() -> dict[str, str]:
    lines = (PROJECT_ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines()
    return dict(_pin(line, "requirements.lock") for line in lines if line.strip() and not line.startswith("#"))


def test_every_dependency_is_pinned_and_locked_at_the_same_version() -> None:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lock = _lock()
    declared = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    for requirement in declared:
        name, version = _pin(requirement, "pyproject.toml")
        # `==2.13.0` admits the local build `2.13.0+cpu` (PEP 440), the torch wheel on disk.
        locked = lock.get(name, "").split("+")[0]
        assert locked == version, f"{name}: pyproject {version}, lock {lock.get(name)}"
