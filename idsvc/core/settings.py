"""Settings: read once from ``IDSVC_*`` environment variables, with safe defaults.

Every variable is documented in README.md.  Reading the environment happens here and nowhere
else; the rest of the code receives a frozen :class:`Settings`.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

ALL_CHALLENGES = ("blink", "turn_left", "turn_right", "open_mouth", "nod")


class ConfigError(RuntimeError):
    """A setting is missing or malformed; raised at start-up, naming the variable."""


class Secret(str):
    """A string whose repr never shows its value, so settings can be logged safely."""

    def __repr__(self) -> str:
        return "Secret('**********')"


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    secret_key: Secret = field(default_factory=lambda: Secret(secrets.token_urlsafe(32)))
    secret_generated: bool = True
    database_url: str = "sqlite:///var/idsvc.sqlite3"
    # Empty means "no Redis server": an in-process fakeredis is used (development only).
    redis_url: str = ""
    redis_prefix: str = "idsvc"
    public_url: str = "http://127.0.0.1:8000"
    wechat_appid: str = "wx_dev_appid"
    wechat_secret: Secret = Secret("dev_secret")
    wechat_api_base: str = "https://api.weixin.qq.com/"
    wechat_oauth_base: str = "https://open.weixin.qq.com/connect/"
    session_ttl: int = 300
    # Purged this long after a session ends, so pollers can still read `expired`/`verified`.
    session_retention: int = 3600
    blob_dir: Path = Path("var/blobs")
    challenges: tuple[str, ...] = ALL_CHALLENGES
    max_upload_bytes: int = 30 * 1024 * 1024
    # A 3-8 s phone clip is 1-10 MB; 20 MB leaves room for 4K recorders without inviting abuse.
    max_video_bytes: int = 20 * 1024 * 1024
    log_level: str = "INFO"
    webhook_url: str = ""
    webhook_secret: Secret = Secret("")
    rate_limit_per_minute: int = 60
    # What the member's phone shows (README "The phone (WeChat)").
    portal_name: str = "会员系统"
    help_text: str = "如有疑问，请联系所在协会"
    timezone: str = "Asia/Shanghai"

    @property
    def production(self) -> bool:
        return self.env == "production"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``IDSVC_*`` variables; in production a missing secret is fatal."""
        env = os.environ if environ is None else environ

        def get(name: str, default: str = "") -> str:
            return env.get(f"IDSVC_{name}", default).strip()

        def get_int(name: str, default: int, minimum: int = 1) -> int:
            raw = get(name)
            if not raw:
                return default
            try:
                value = int(raw)
            except ValueError:
                raise ConfigError(f"IDSVC_{name} must be an integer, got {raw!r}") from None
            if value < minimum:
                raise ConfigError(f"IDSVC_{name} must be >= {minimum}, got {value}")
            return value

        mode = get("ENV", "development")
        if mode not in ("development", "production", "test"):
            raise ConfigError(f"IDSVC_ENV must be development, production or test, got {mode!r}")
        secret = get("SECRET_KEY")
        if not secret and mode == "production":
            raise ConfigError("IDSVC_SECRET_KEY is required when IDSVC_ENV=production")
        if secret and len(secret) < 16:
            raise ConfigError("IDSVC_SECRET_KEY must be at least 16 characters")
        if mode == "production" and not get("REDIS_URL"):
            raise ConfigError("IDSVC_REDIS_URL is required when IDSVC_ENV=production")
        if mode == "production" and get("WEBHOOK_URL") and not get("WEBHOOK_SECRET"):
            raise ConfigError("IDSVC_WEBHOOK_SECRET is required when IDSVC_WEBHOOK_URL is set in production")
        challenges = tuple(c.strip() for c in get("CHALLENGES", ",".join(ALL_CHALLENGES)).split(",") if c.strip())
        unknown = [c for c in challenges if c not in ALL_CHALLENGES]
        if unknown or not challenges:
            raise ConfigError(f"IDSVC_CHALLENGES: unknown or empty {unknown}; choose from {ALL_CHALLENGES}")
        defaults = cls()
        return cls(
            env=mode,
            secret_key=Secret(secret) if secret else defaults.secret_key,
            secret_generated=not secret,
            database_url=get("DATABASE_URL") or defaults.database_url,
            redis_url=get("REDIS_URL"),
            redis_prefix=get("REDIS_PREFIX", "idsvc"),
            public_url=(get("PUBLIC_URL") or defaults.public_url).rstrip("/"),
            wechat_appid=get("WECHAT_APPID", defaults.wechat_appid),
            wechat_secret=Secret(get("WECHAT_SECRET", defaults.wechat_secret)),
            wechat_api_base=_with_slash(get("WECHAT_API_BASE", defaults.wechat_api_base)),
            wechat_oauth_base=_with_slash(get("WECHAT_OAUTH_BASE", defaults.wechat_oauth_base)),
            session_ttl=get_int("SESSION_TTL", defaults.session_ttl),
            session_retention=get_int("SESSION_RETENTION", defaults.session_retention),
            blob_dir=Path(get("BLOB_DIR") or defaults.blob_dir),
            challenges=challenges,
            max_upload_bytes=get_int("MAX_UPLOAD_BYTES", defaults.max_upload_bytes),
            max_video_bytes=get_int("MAX_VIDEO_BYTES", defaults.max_video_bytes),
            log_level=get("LOG_LEVEL", "INFO").upper(),
            webhook_url=get("WEBHOOK_URL"),
            webhook_secret=Secret(get("WEBHOOK_SECRET")),
            rate_limit_per_minute=get_int("RATE_LIMIT_PER_MINUTE", defaults.rate_limit_per_minute),
            portal_name=get("PORTAL_NAME") or defaults.portal_name,
            help_text=get("HELP_TEXT") or defaults.help_text,
            timezone=_timezone(get("TIMEZONE") or defaults.timezone),
        )

    def replace(self, **changes: object) -> Settings:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


def _timezone(name: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"IDSVC_TIMEZONE: unknown time zone {name!r} (e.g. Asia/Shanghai)") from None
    return name


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"
