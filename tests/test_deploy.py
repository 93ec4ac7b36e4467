"""The scale-out description in deploy/: valid YAML whose services are the ones the README's
"Scaling out" section names, configured through settings that exist, on the pinned Chroma."""

from __future__ import annotations

import re
from typing import Any

import yaml

from bot.settings import PROJECT_ROOT, Settings

DEPLOY = PROJECT_ROOT / "deploy"


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def readme_section(title: str) -> str:
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", text, flags=re.S | re.M)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


def test_the_compose_file_holds_the_services_the_readme_names() -> None:
    section = readme_section("Scaling out")
    named = set(re.findall(r"^- \*\*`([a-z]+)`\*\*", section, flags=re.M))
    named |= set(re.findall(r"^`([a-z]+)` is a one-off job", section, flags=re.M))
    assert named == set(compose()["services"])
    for command in re.findall(r"docker compose -f (\S+)", section):
        assert (PROJECT_ROOT / command).is_file(), command


def test_every_variable_the_services_set_is_a_setting() -> None:
    fields = set(Settings.model_fields)
    for name, service in compose()["services"].items():
        for variable in service.get("environment", {}):
            if variable.startswith("VALUERELAY_"):
                assert variable.removeprefix("VALUERELAY_").lower() in fields, f"{name}: {variable}"


def test_the_bots_reach_the_chroma_and_postgres_services() -> None:
    services = compose()["services"]
    for name in ("bot", "ingest"):
        environment = services[name]["environment"]
        assert environment["VALUERELAY_CHROMA_HOST"] in services
        assert re.search(r"@(\w+):5432/", environment["VALUERELAY_DATABASE_URL"]).group(1) in services
        assert set(services[name]["depends_on"]) == {"chroma", "postgres"}


def test_the_chroma_image_is_the_pinned_chromadb_version() -> None:
    lock = (PROJECT_ROOT / "requirements.lock").read_text(encoding="utf-8")
    pinned = re.search(r"^chromadb==(\S+)$", lock, flags=re.M).group(1)
    assert compose()["services"]["chroma"]["image"] == f"chromadb/chroma:{pinned}"


def test_the_image_copies_only_what_exists() -> None:
    for line in (DEPLOY / "Dockerfile").read_text(encoding="utf-8").splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (PROJECT_ROOT / source).exists(), source
    build = compose()["services"]["bot"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == (DEPLOY / "Dockerfile").resolve()
