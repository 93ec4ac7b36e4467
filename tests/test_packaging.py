"""The install contract: every dependency resolves from a package registry, by exact version."""

from __future__ import annotations

import re
import tomllib

from bot.settings import PROJECT_ROOT

PINNED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)$")


def _lock() -> dict[str, str]:
    lines = (PROJECT_ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines()
    pins = {}
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        # A direct reference (a local wheel path, a URL) only installs on the machine that resolved it.
        match = PINNED.match(line.strip())
        assert match, f"requirements.lock: not a name==version pin: {line!r}"
        pins[match.group(1).lower().replace("_", "-")] = match.group(2)
    return pins


def test_every_dependency_is_pinned_and_locked_at_the_same_version() -> None:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lock = _lock()
    declared = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    for requirement in declared:
        match = PINNED.match(requirement)
        assert match, f"pyproject.toml: {requirement!r} is not pinned with =="
        name, version = match.group(1).lower().replace("_", "-"), match.group(2)
        # `==2.13.0` admits the local build `2.13.0+cpu` (PEP 440), the torch wheel on disk.
        locked = lock.get(name, "").split("+")[0]
        assert locked == version, f"{name}: pyproject {version}, lock {lock.get(name)}"
