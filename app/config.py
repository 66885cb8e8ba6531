"""Service settings: every ``KRING_*`` environment variable, read in one place.

:func:`get_settings` is the only code in kring that reads the environment; tests override
it (``app.dependency_overrides[get_settings]``) and everything else receives a
:class:`Settings` instance.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_PEPPER = "kring-development-pepper"
ExecutorKind = Literal["process", "thread", "inline", "celery"]


class Settings(BaseSettings):
    """Configuration of the kring service (environment prefix ``KRING_``)."""

    model_config = SettingsConfigDict(env_prefix="KRING_", extra="ignore")

    database_url: str = Field(
        "sqlite:///./kring.db",
        description="SQLAlchemy URL: a SQLite file (default) or postgresql+psycopg://...",
    )
    api_key_pepper: SecretStr = Field(
        SecretStr(DEV_PEPPER),
        description="Server-side secret mixed into API-key hashes; the server refuses to "
        "start without it unless KRING_DEV_MODE is true.",
    )
    dev_mode: bool = Field(
        False,
        description="Development only: lets the server start with the built-in API-key "
        "pepper (`kring demo` sets it).",
    )
    auth_failure_limit: int = Field(
        20,
        ge=1,
        description="Failed authentications (a wrong, revoked or expired key) one client "
        "address may make within KRING_AUTH_FAILURE_WINDOW_S before its requests with a key "
        "answer 429 (per web process).",
    )
    auth_failure_window_s: float = Field(
        60.0, gt=0, description="The window of KRING_AUTH_FAILURE_LIMIT, in seconds."
    )
    executor: ExecutorKind = Field(
        "process",
        description="How runs execute: worker processes, a worker thread, inline (tests), "
        "or Celery workers over Redis (see README, Production).",
    )
    workers: int = Field(1, ge=1, le=64, description="Concurrent runs (process/thread).")
    run_nice: int = Field(
        10,
        ge=0,
        le=19,
        description="CPU niceness added to run worker processes (process executor, "
        "`kring worker`), so API reads stay responsive while an optimisation runs.",
    )
    poll_interval_s: float = Field(2.0, gt=0, description="How often the worker polls.")
    max_body_bytes: int = Field(20_000_000, ge=1_000, description="Largest request body.")
    max_rows: int = Field(50_000, ge=1, description="Most firms or links per request.")
    default_time_limit_s: float = Field(30.0, gt=0, description="Run time limit default.")
    max_time_limit_s: float = Field(3_600.0, gt=0, description="Largest time limit allowed.")
    max_run_attempts: int = Field(
        3,
        ge=1,
        le=100,
        description="Times a run is started before it fails: a run whose worker died (or "
        "whose server stopped) while it ran is retried until then.",
    )
    max_running_per_organisation: int = Field(
        0,
        ge=0,
        description="Most runs of one organisation running at once (0: no limit); queued "
        "runs are claimed round-robin across organisations either way.",
    )
    organisation_max_time_limit_s: dict[str, float] = Field(
        default_factory=dict,
        description="Per-organisation maxima of time_limit_s by organisation name, e.g. "
        '{"OrgA": 600}; organisations not named get max_time_limit_s.',
    )
    broker_url: str = Field(
        "redis://127.0.0.1:6379/0", description="Celery broker (executor 'celery'): Redis."
    )
    windows: int = Field(
        0,
        ge=0,
        le=256,
        description="Regional windows per Celery run; 0 picks by size (about 2,000 firms "
        "per window, at least 4).",
    )
    celery_workers: int = Field(
        2,
        ge=1,
        le=256,
        description="Celery workers (concurrency 1 each) that solve a run's windows at once: "
        "a run's time_limit_s is its wall-clock limit, split over ceil(windows / "
        "celery_workers) waves of windows and the border repair and merge.",
    )
    lease_s: float = Field(
        60.0, gt=0, description="A Celery run or window silent this long is re-dispatched."
    )
    log_level: str = Field("INFO", description="Python log level name.")
    log_json: bool = Field(False, description="Render logs as JSON lines.")


def pepper_problem(settings: Settings) -> str | None:
    """Why the server must not start with these settings' pepper (None: it may)."""
    pepper = settings.api_key_pepper.get_secret_value()
    if settings.dev_mode or (pepper and pepper != DEV_PEPPER):
        return None
    return (
        "KRING_API_KEY_PEPPER is not set: set it to a long random secret (API keys are "
        "stored as HMAC-SHA-256 with it), or set KRING_DEV_MODE=true to use the built-in "
        "development pepper on a machine of your own"
    )


@lru_cache
def get_settings() -> Settings:
    """Return the settings read from the environment (cached; the only env reader)."""
    return Settings()
