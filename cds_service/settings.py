"""Settings: one model, read from CRS_CDS_* environment variables, built explicitly (never at import).

Constructor arguments override the environment, so tests pass what they need and never touch os.environ:

    Settings(environment="development", auth_mode="disabled", database_url="sqlite:///...")
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_PACKAGED_CARDS = Path(__file__).resolve().parent / "cards"  # an installed wheel (setup.py copies cards/ there)
_REPO_CARDS = Path(__file__).resolve().parent.parent / "cards"  # a checkout or an editable install


def default_knowledge_dir() -> Path:
    """cards/ shipped inside the package when installed from a wheel, else cards/ of the checkout."""
    return _PACKAGED_CARDS if _PACKAGED_CARDS.is_dir() else _REPO_CARDS


class Environment(StrEnum):
    development = "development"
    production = "production"


class AuthMode(StrEnum):
    required = "required"
    disabled = "disabled"


class RiskTier(StrEnum):
    low = "low"
    moderate = "moderate"
    high = "high"


#: The pepper of development mode when none is set: never real patient data there (the start-up banner says so),
#: and the card memory works out of the box.
DEVELOPMENT_PEPPER = "crs-cds-development-only-pepper"


class Settings(BaseSettings):
    """Everything an operator can configure. The README's configuration table mirrors this class."""

    model_config = SettingsConfigDict(env_prefix="CRS_CDS_", extra="ignore", frozen=True)

    environment: Environment = Environment.production
    auth_mode: AuthMode = AuthMode.required
    trusted_issuers_file: Path | None = None
    jwt_clock_skew_seconds: int = Field(60, ge=0, le=600)
    # CDS Hooks JWTs are per call; a captured long-lived one would otherwise stay usable (and fill the replay cache).
    jwt_max_lifetime_seconds: int = Field(3600, ge=60)
    jwks_refresh_min_seconds: int = Field(60, ge=1)

    public_base_url: str = "http://127.0.0.1:8080"
    database_url: str = "sqlite:///./data/crs-cds.sqlite3"
    sqlite_busy_timeout_ms: int = Field(10_000, ge=0)  # a locked SQLite database is waited for this long
    # Key of the HMAC that replaces the patient id in the card audit and the card memory; without it no patient
    # key is kept (and cards are not remembered between calls). Development mode uses DEVELOPMENT_PEPPER.
    audit_pepper: SecretStr | None = None
    # Shared replay and JWKS caches (required for several workers or replicas in production).
    redis_url: SecretStr | None = None
    redis_key_prefix: str = Field("crs-cds:", min_length=1, max_length=64)
    cors_origins: list[str] = Field(default_factory=list)
    max_body_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    max_json_depth: int = Field(64, ge=8)
    max_json_elements: int = Field(1_000_000, ge=1000)
    # A client that has not sent its whole request header (or body) this long after starting it is cut off.
    header_timeout_seconds: float = Field(10.0, gt=0)
    body_timeout_seconds: float = Field(30.0, gt=0)

    fhir_deadline_seconds: float = Field(3.0, gt=0)
    fhir_request_timeout_seconds: float = Field(2.0, gt=0)
    fhir_retries: int = Field(2, ge=0, le=5)
    fhir_max_pages: int = Field(10, ge=1)
    fhir_max_connections: int = Field(20, ge=1)
    # One FHIR answer larger than this is not read (a data gap): bounds memory and CPU per call.
    fhir_max_response_bytes: int = Field(20 * 1024 * 1024, ge=64 * 1024)
    # Observations read per call (newest first); the rest is reported as a data gap. Bounds CPU per call:
    # a 5,000-observation chart costs about 160 ms, 2.65 x its json.loads (docs/PERFORMANCE.md).
    max_observations: int = Field(5000, ge=100)

    knowledge_dir: Path = Field(default_factory=default_knowledge_dir)
    site_knowledge_file: Path | None = None
    min_order_alert_tier: RiskTier = RiskTier.moderate
    min_window_card_tier: RiskTier = RiskTier.moderate  # quiet monitoring-window cards (no signs) from this tier
    grading_window_hours: int = Field(24, ge=1, le=168)
    monitoring_gap_hours: int = Field(8, ge=1, le=72)
    # At order time a baseline lab (CRP, ferritin, blood count...) resulted this recently is shown, not suggested.
    baseline_result_hours: int = Field(72, ge=0, le=720)
    # Alert burden: the same finding, not worse, within this time of first being shown comes back as info ...
    repeat_hours: int = Field(12, ge=0, le=168)
    # ... and an override "already addressed", "will reassess" or "monitored per protocol" holds it this long.
    hold_hours: int = Field(8, ge=0, le=168)

    # The time zone cards write times in (IANA name, e.g. "Europe/Berlin"); every time shows its zone.
    time_zone: str = "UTC"
    source_label: str = "crs-cds CRS decision support"
    smart_app_url: str | None = None
    smart_client_id: str = "crs-cds-timeline"  # the client id the EHR registered for the timeline app
    log_level: str = "INFO"
    log_format: str = Field("json", pattern="^(json|text)$")
    metrics_enabled: bool = True  # GET /metrics (Prometheus text format)
    # OpenTelemetry traces to this OTLP/HTTP endpoint (needs the `otel` extra), e.g. http://collector:4318.
    otel_endpoint: str | None = None
    otel_service_name: str = "crs-cds"

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.auth_mode is AuthMode.disabled and self.environment is not Environment.development:
            raise ValueError(
                "auth_mode=disabled is accepted only with environment=development "
                "(set CRS_CDS_ENVIRONMENT=development for local work; never in production)"
            )
        return self

    @model_validator(mode="after")
    def _known_time_zone(self) -> Settings:
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"time_zone {self.time_zone!r} is not an IANA time zone name") from None
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def is_development(self) -> bool:
        return self.environment is Environment.development

    @property
    def pepper(self) -> str | None:
        """The audit pepper, or the development one in development mode; None in production without one."""
        if self.audit_pepper is not None:
            return self.audit_pepper.get_secret_value()
        return DEVELOPMENT_PEPPER if self.is_development else None
