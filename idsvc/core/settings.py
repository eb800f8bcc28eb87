"""Settings: read once from ``IDSVC_*`` environment variables, with safe defaults.

Every variable is documented in README.md.  Reading the environment happens here and nowhere
else; the rest of the code receives a frozen :class:`Settings`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import ipaddress
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# The liveness actions the server may ask for (idsvc.liveness.challenges gives each its instruction).
ALL_CHALLENGES = ("blink", "turn_left", "turn_right", "open_mouth", "nod")
DEFAULT_CHALLENGES = ("turn_left", "turn_right", "open_mouth", "nod")
# Development only, when neither IDSVC_AUDIT_KEY nor IDSVC_SECRET_KEY is set: a published, stable key,
# so that the chain written by one `idsvc` process verifies in the next.  It protects nothing.
DEVELOPMENT_AUDIT_KEY = "idsvc-development-audit-key-not-secret"
_AUDIT_KEY_LABEL = b"idsvc audit chain v1"


class ConfigError(RuntimeError):
    """A setting is missing or malformed; raised at start-up, naming the variable."""


class Secret(str):
    """A string whose repr never shows its value, so settings can be logged safely."""

    def __repr__(self) -> str:
        return "Secret('**********')"


SEAL_SHAPES = ("round", "square", "oval")
_SEAL_SHAPE_ALIASES = {"rect": "square", "rectangle": "square", "circle": "round", "ellipse": "oval"}


@dataclass(frozen=True)
class SealSettings:
    """The seal template (``IDSVC_SEAL_*``); documents' SealTemplate is built from it."""

    shape: str = "square"
    width_mm: float = 20.0
    height_mm: float = 20.0
    tolerance_mm: float = 1.0
    tolerance_pct: float = 5.0
    warn_mm: float = 2.0
    warn_pct: float = 10.0
    text_suffixes: tuple[str, ...] = ("印", "之印", "章")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SealSettings:
        """Parse and validate; any malformed value raises :class:`ConfigError` naming the variable."""
        d = cls()

        def raw(name: str) -> str:
            return env.get(f"IDSVC_SEAL_{name}", "").strip()

        def num(name: str, default: float, lo: float, hi: float) -> float:
            text = raw(name)
            if not text:
                return default
            try:
                value = float(text)
            except ValueError:
                raise ConfigError(f"IDSVC_SEAL_{name} must be a number, got {text!r}") from None
            if not (lo <= value <= hi):  # also refuses nan
                raise ConfigError(f"IDSVC_SEAL_{name} must be between {lo:g} and {hi:g}, got {text!r}")
            return value

        shape = raw("SHAPE").lower() or d.shape
        shape = _SEAL_SHAPE_ALIASES.get(shape, shape)
        if shape not in SEAL_SHAPES:
            raise ConfigError(f"IDSVC_SEAL_SHAPE must be round, square or oval, got {raw('SHAPE')!r}")
        width, height = d.width_mm, d.height_mm
        size = raw("SIZE_MM")
        if size:
            parsed = parse_seal_size(size)
            if parsed is None:
                raise ConfigError(f"IDSVC_SEAL_SIZE_MM must look like 20 or 20x10 (3-100 mm), got {size!r}")
            width, height = parsed
        suffixes_raw = env.get("IDSVC_SEAL_TEXT_SUFFIXES")
        suffixes = d.text_suffixes
        if suffixes_raw is not None and suffixes_raw.strip():
            suffixes = tuple(s.strip() for s in suffixes_raw.split(",") if s.strip())
            if any(len(s) > 4 for s in suffixes):
                raise ConfigError(f"IDSVC_SEAL_TEXT_SUFFIXES: each suffix is 1-4 characters, got {suffixes_raw!r}")
        return cls(
            shape=shape,
            width_mm=width,
            height_mm=width if shape == "round" else height,
            tolerance_mm=num("TOLERANCE_MM", d.tolerance_mm, 0.0, 20.0),
            tolerance_pct=num("TOLERANCE_PCT", d.tolerance_pct, 0.0, 50.0),
            warn_mm=num("WARN_MM", d.warn_mm, 0.0, 40.0),
            warn_pct=num("WARN_PCT", d.warn_pct, 0.0, 100.0),
            text_suffixes=suffixes,
        )


def parse_seal_size(value: str) -> tuple[float, float] | None:
    """``"20"`` / ``"20x10"`` / ``"20×10 mm"`` → (width, height) in mm, or None when malformed or outside 3-100 mm."""
    m = re.fullmatch(
        r"\s*([0-9]{1,3}(?:\.[0-9]{1,3})?)\s*(?:[x×*]\s*([0-9]{1,3}(?:\.[0-9]{1,3})?))?\s*(?:mm)?\s*", value.lower()
    )
    if not m:
        return None
    w = float(m.group(1))
    h = float(m.group(2)) if m.group(2) else w
    if not (3.0 <= w <= 100.0 and 3.0 <= h <= 100.0):
        return None
    return w, h


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
    # The actions sequences are drawn from.  Blink is left out by default: every natural clip that
    # got through the replay evaluation did so on a sequence with a blink (2.52 % of sessions with
    # it, 0.04 % without; docs/liveness.md).  It can still be enabled.
    challenges: tuple[str, ...] = DEFAULT_CHALLENGES
    # Liveness sequence challenges (issue #11; docs/liveness.md): how many actions, when the later
    # prompts appear, the recording length, and the light (colour) challenge.
    challenge_actions: int = 2
    challenge_prompt_min_s: float = 1.2
    challenge_prompt_max_s: float = 1.8
    challenge_duration_s: float = 3.0
    light_challenge: bool = True
    light_colours: int = 4
    light_colour_s: float = 0.5
    max_upload_bytes: int = 30 * 1024 * 1024
    # A 3-8 s phone clip is 1-10 MB; 20 MB leaves room for 4K recorders without inviting abuse.
    max_video_bytes: int = 20 * 1024 * 1024
    log_level: str = "INFO"
    webhook_url: str = ""
    webhook_secret: Secret = Secret("")
    rate_limit_per_minute: int = 60
    # Ed25519 key that signs certificate tokens (base64 of the 32-byte seed or of PKCS#8 DER, or a
    # PEM).  Empty: derived from ``secret_key`` (development and tests); required in production.
    cert_signing_key: Secret = Secret("")
    association_name: str = "中国资产评估协会"
    # Failed face verifications per member, across sessions (#16): this many counted failures
    # within the window lock the member's face verification for the lock-out period; the daily
    # maximum locks it until the next day in `timezone`.
    face_fails_window_max: int = 5
    face_fails_window_s: int = 900
    face_fails_lockout_s: int = 1800
    face_fails_daily_max: int = 10
    # Portal origins whose pages may embed the desktop widget and poll sessions (comma-separated).
    cors_origins: str = ""
    # Proxies whose X-Forwarded-For is believed (comma-separated addresses or CIDRs); empty: none.
    trusted_proxies: str = ""
    # Where "today" and times shown to members are reckoned.
    timezone: str = "Asia/Shanghai"
    seal: SealSettings = field(default_factory=SealSettings)
    # Keys the audit chain (HMAC); empty: derived from secret_key (see audit_signing_key).
    audit_key: Secret = Secret("")
    # What the member's phone shows (README "The phone (WeChat)").
    portal_name: str = "会员系统"
    help_text: str = "如有疑问，请联系所在协会"
    # Re-verification before submission (docs/reverify.md): the official-account template message
    # pushed with ``notify: "wechat"`` (empty: pushing is off), and how long a verified
    # re-verification may still be consumed after ``verified_at``.
    wechat_template_id: str = ""
    reverify_validity: int = 120

    @property
    def production(self) -> bool:
        return self.env == "production"

    def audit_signing_key(self) -> bytes:
        """The HMAC key of the audit chain: IDSVC_AUDIT_KEY, else IDSVC_SECRET_KEY, under a label of its own."""
        base = str(self.audit_key or self.secret_key).encode()
        return hmac.new(base, _AUDIT_KEY_LABEL, hashlib.sha256).digest()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``IDSVC_*`` variables; in production a missing secret is fatal."""
        env = os.environ if environ is None else environ

        def get(name: str, default: str = "") -> str:
            return env.get(f"IDSVC_{name}", default).strip()

        def get_float(name: str, default: float, lo: float, hi: float) -> float:
            raw = get(name)
            if not raw:
                return default
            try:
                value = float(raw)
            except ValueError:
                raise ConfigError(f"IDSVC_{name} must be a number, got {raw!r}") from None
            if not lo <= value <= hi:
                raise ConfigError(f"IDSVC_{name} must be between {lo} and {hi}, got {value}")
            return value

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
        audit_key = get("AUDIT_KEY")
        if audit_key and len(audit_key) < 16:
            raise ConfigError("IDSVC_AUDIT_KEY must be at least 16 characters")
        if not audit_key and not secret:
            audit_key = DEVELOPMENT_AUDIT_KEY  # only reachable outside production (the secret is required there)
        if mode == "production" and not get("REDIS_URL"):
            raise ConfigError("IDSVC_REDIS_URL is required when IDSVC_ENV=production")
        if mode == "production" and get("WEBHOOK_URL") and not get("WEBHOOK_SECRET"):
            raise ConfigError("IDSVC_WEBHOOK_SECRET is required when IDSVC_WEBHOOK_URL is set in production")
        cert_key = get("CERT_SIGNING_KEY")
        if not cert_key and mode == "production":
            raise ConfigError("IDSVC_CERT_SIGNING_KEY is required when IDSVC_ENV=production")
        if cert_key:
            ed25519_seed(cert_key)  # refuse a malformed key at start-up, naming the variable
        challenges = tuple(c.strip() for c in get("CHALLENGES", ",".join(DEFAULT_CHALLENGES)).split(",") if c.strip())
        unknown = [c for c in challenges if c not in ALL_CHALLENGES]
        if unknown or not challenges:
            raise ConfigError(f"IDSVC_CHALLENGES: unknown or empty {unknown}; choose from {ALL_CHALLENGES}")
        defaults = cls()
        prompt_min = get_float("CHALLENGE_PROMPT_MIN_S", defaults.challenge_prompt_min_s, 0.3, 5.0)
        prompt_max = get_float("CHALLENGE_PROMPT_MAX_S", defaults.challenge_prompt_max_s, prompt_min, 5.0)
        light = get("LIGHT_CHALLENGE", "1").lower()
        if light not in ("0", "1", "true", "false", "on", "off"):
            raise ConfigError(f"IDSVC_LIGHT_CHALLENGE must be 1/0 (on/off), got {light!r}")
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
            challenge_actions=get_int("CHALLENGE_ACTIONS", defaults.challenge_actions),
            challenge_prompt_min_s=prompt_min,
            challenge_prompt_max_s=prompt_max,
            challenge_duration_s=get_float("CHALLENGE_DURATION_S", defaults.challenge_duration_s, 1.5, 8.0),
            light_challenge=light in ("1", "true", "on"),
            light_colours=get_int("LIGHT_COLOURS", defaults.light_colours, 2),
            light_colour_s=get_float("LIGHT_COLOUR_S", defaults.light_colour_s, 0.2, 2.0),
            max_upload_bytes=get_int("MAX_UPLOAD_BYTES", defaults.max_upload_bytes),
            max_video_bytes=get_int("MAX_VIDEO_BYTES", defaults.max_video_bytes),
            log_level=get("LOG_LEVEL", "INFO").upper(),
            webhook_url=get("WEBHOOK_URL"),
            webhook_secret=Secret(get("WEBHOOK_SECRET")),
            rate_limit_per_minute=get_int("RATE_LIMIT_PER_MINUTE", defaults.rate_limit_per_minute),
            cert_signing_key=Secret(cert_key),
            association_name=get("ASSOCIATION_NAME") or defaults.association_name,
            face_fails_window_max=get_int("FACE_FAILS_WINDOW_MAX", defaults.face_fails_window_max),
            face_fails_window_s=get_int("FACE_FAILS_WINDOW", defaults.face_fails_window_s),
            face_fails_lockout_s=get_int("FACE_FAILS_LOCKOUT", defaults.face_fails_lockout_s),
            face_fails_daily_max=get_int("FACE_FAILS_DAILY_MAX", defaults.face_fails_daily_max),
            timezone=_timezone(get("TIMEZONE", defaults.timezone)),
            trusted_proxies=_networks("TRUSTED_PROXIES", get("TRUSTED_PROXIES")),
            cors_origins=_origins(get("CORS_ORIGINS")),
            seal=SealSettings.from_env(env),
            audit_key=Secret(audit_key),
            portal_name=get("PORTAL_NAME") or defaults.portal_name,
            help_text=get("HELP_TEXT") or defaults.help_text,
            wechat_template_id=get("WECHAT_TEMPLATE_ID"),
            reverify_validity=get_int("REVERIFY_VALIDITY", defaults.reverify_validity),
        )

    def replace(self, **changes: object) -> Settings:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


def ed25519_seed(text: str) -> bytes:
    """The 32-byte Ed25519 private seed of ``IDSVC_CERT_SIGNING_KEY``: a PEM private key, or base64
    of the raw 32-byte seed or of a PKCS#8 DER key.  Raises :class:`ConfigError` otherwise."""
    import base64
    import binascii

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            raw = base64.b64decode(
                text + "=" * (-len(text) % 4), altchars=b"-_" if ("-" in text or "_" in text) else None
            )
            if len(raw) == 32:
                return raw
            key = serialization.load_der_private_key(raw, password=None)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise ConfigError(f"IDSVC_CERT_SIGNING_KEY is not an Ed25519 private key: {type(exc).__name__}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError("IDSVC_CERT_SIGNING_KEY must be an Ed25519 private key")
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())


def _origins(spec: str) -> str:
    for item in (part.strip() for part in spec.split(",")):
        if item and not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?/?", item):
            raise ConfigError(f"IDSVC_CORS_ORIGINS: {item!r} is not an origin like https://portal.example.org")
    return spec


def _networks(name: str, spec: str) -> str:
    for item in (part.strip() for part in spec.split(",")):
        if item:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ConfigError(f"IDSVC_{name}: {item!r} is not an IP address or network") from None
    return spec


def _timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"IDSVC_TIMEZONE: unknown time zone {name!r} (e.g. Asia/Shanghai)") from None
    return name


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"
