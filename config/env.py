"""Read settings from the environment, refusing bad values with a sentence that names the variable.

Every helper takes the environment as an argument (defaulting to ``os.environ``) so that tests can
feed it a plain dict instead of patching the process environment.
"""

import ipaddress
import os
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


def _raw(name: str, env: Mapping[str, str] | None) -> str | None:
    value = (os.environ if env is None else env).get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_prefixed(prefix: str, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every set variable whose name starts with prefix, by the rest of its name: ANYMAIL_POSTMARK_SERVER_TOKEN →
    {"POSTMARK_SERVER_TOKEN": …} for env_prefixed("ANYMAIL_")."""
    source = os.environ if env is None else env
    return {name.removeprefix(prefix): value.strip() for name, value in source.items()
            if name.startswith(prefix) and name != prefix and value.strip()}


def env_str(name: str, default: str | None = None, env: Mapping[str, str] | None = None) -> str | None:
    value = _raw(name, env)
    return default if value is None else value


def env_bool(name: str, default: bool, env: Mapping[str, str] | None = None) -> bool:
    value = _raw(name, env)
    if value is None:
        return default
    if value.lower() in TRUE_WORDS:
        return True
    if value.lower() in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false (also 1/0, yes/no, on/off), got {value!r}.")


def env_int(name: str, default: int, minimum: int = 0, env: Mapping[str, str] | None = None) -> int:
    value = _raw(name, env)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {value!r}.") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {number}.")
    return number


def env_list(name: str, default: list[str], env: Mapping[str, str] | None = None) -> list[str]:
    value = _raw(name, env)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


_HOST_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOST_NAME_RE = re.compile(rf"{_HOST_LABEL}(?:\.{_HOST_LABEL})*\.?")


def env_host_list(name: str, env: Mapping[str, str] | None = None) -> list[str]:
    """Comma-separated host names or IP addresses (no scheme, port or path), lower-cased; empty when unset."""
    hosts = []
    for item in env_list(name, [], env):
        host = item.lower()
        try:
            ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            if len(host) > 253 or not _HOST_NAME_RE.fullmatch(host):
                raise ImproperlyConfigured(
                    f"{name} must be a comma-separated list of host names or IP addresses such as "
                    f"hooks.internal.example,127.0.0.1 (no scheme, port or path), got {item!r}."
                ) from None
        hosts.append(host.strip("[]"))
    return hosts


def env_time_zone(name: str, default: str, env: Mapping[str, str] | None = None) -> str:
    value = env_str(name, default, env)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(
            f"{name} must be an IANA time zone name such as UTC or Europe/Berlin, got {value!r}."
        ) from None
    return value


def env_http_url(name: str, default: str, env: Mapping[str, str] | None = None) -> str:
    value = env_str(name, default, env)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ImproperlyConfigured(
            f"{name} must be an absolute http:// or https:// URL such as https://status.example.com, "
            f"got {value!r}."
        )
    return value.rstrip("/")


def env_redis_url(name: str, env: Mapping[str, str] | None = None) -> str | None:
    """A redis:// (or rediss://, unix://) URL, or None when the variable is not set."""
    value = _raw(name, env)
    if value is None:
        return None
    parts = urlsplit(value)
    valid = (parts.scheme in ("redis", "rediss") and parts.hostname) or (parts.scheme == "unix" and parts.path)
    if valid:
        try:
            parts.port  # noqa: B018 - raises ValueError on a port that is not a number
            db = parts.path.lstrip("/")
            valid = parts.scheme == "unix" or db == "" or db.isdigit()
        except ValueError:
            valid = False
    if not valid:
        raise ImproperlyConfigured(
            f"{name} must be a redis:// URL such as redis://127.0.0.1:6379/0, got {value!r}."
        )
    return value


def env_absolute_path(name: str, env: Mapping[str, str] | None = None) -> Path | None:
    """An absolute file system path (~ expanded), or None when the variable is not set. A relative path is
    refused: the web, worker and beat processes need not share a working directory."""
    value = _raw(name, env)
    if value is None:
        return None
    path = Path(value).expanduser()
    if not path.is_absolute():
        raise ImproperlyConfigured(f"{name} must be an absolute path such as /srv/ears/status-export, got {value!r}.")
    return path


DATABASE_SCHEMES = ("postgres", "postgresql", "pgsql", "sqlite")


def env_database(name: str, default: str, env: Mapping[str, str] | None = None) -> dict:
    """A Django DATABASES entry from a postgres:// or sqlite:/// URL."""
    import dj_database_url

    value = env_str(name, default, env)
    parts = urlsplit(value)
    example = "postgres://user:password@host:5432/dbname or sqlite:///path/to/db.sqlite3"
    if parts.scheme not in DATABASE_SCHEMES:
        raise ImproperlyConfigured(f"{name} must be a URL such as {example}, got {value!r}.")
    if parts.scheme != "sqlite" and (not parts.hostname or not parts.path.strip("/")):
        raise ImproperlyConfigured(
            f"{name} must name a host and a database, such as {example}, got {value!r}."
        )
    try:
        config = dj_database_url.parse(value, conn_max_age=60, conn_health_checks=True)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} could not be read ({error}); expected {example}.") from None
    if parts.scheme == "sqlite":
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            # Web, worker and beat share one file: wait for locks, take the write lock up front,
            # and let readers proceed while a writer works.
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    return config


RATE_UNITS = {
    "s": 1, "sec": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
}


def env_rate(name: str, default: str, env: Mapping[str, str] | None = None) -> tuple[int, int]:
    """A rate such as 10/hour, 3/day or 5/15min, as (requests, seconds)."""
    value = env_str(name, default, env)
    match = re.fullmatch(r"(\d+)\s*/\s*(\d*)\s*([a-z]+)", value.lower())
    if match and match[3] in RATE_UNITS:
        count, multiplier = int(match[1]), int(match[2] or 1)
        if count >= 1 and multiplier >= 1:
            return count, multiplier * RATE_UNITS[match[3]]
    raise ImproperlyConfigured(
        f"{name} must look like 10/hour, 3/day or 5/15min (at least one request per second, minute, hour or day), "
        f"got {value!r}."
    )


def env_header_name(name: str, default: str | None, env: Mapping[str, str] | None = None) -> str | None:
    """An HTTP header name such as X-Forwarded-Proto, or the default when the variable is not set."""
    value = env_str(name, default, env)
    if value is not None and not re.fullmatch(r"[A-Za-z0-9-]+", value):
        raise ImproperlyConfigured(
            f"{name} must be an HTTP header name such as X-Forwarded-Proto, got {value!r}."
        )
    return value


SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")


def env_cadence(name: str, default: str, env: Mapping[str, str] | None = None) -> dict[str, int]:
    """SEV1=30,SEV2=60,… in minutes between public updates; 0 (or left out) means no cadence for that severity."""
    value = env_str(name, default, env)
    try:
        pairs = dict(item.split("=") for item in value.replace(" ", "").split(",") if item)
        cadence = {severity: int(pairs.get(severity, 0)) for severity in SEVERITIES}
        unknown = set(pairs) - set(cadence)
    except ValueError:
        unknown = {"?"}
    if unknown or any(minutes < 0 for minutes in cadence.values()):
        raise ImproperlyConfigured(f"{name} must look like SEV1=30,SEV2=60,SEV3=120,SEV4=0 (minutes), got {value!r}.")
    return cadence


def env_pairs(name: str, default: str, example: str, env: Mapping[str, str] | None = None) -> dict[str, float]:
    """name=number,name=number… from the environment."""
    value = env_str(name, default, env)
    try:
        return {key.strip(): float(number) for key, number in (item.split("=") for item in value.split(",") if item)}
    except ValueError:
        raise ImproperlyConfigured(f"{name} must look like {example}, got {value!r}.") from None


def env_weights(name: str, default: str, parts: tuple[str, ...], env: Mapping[str, str] | None = None) -> dict:
    """Points for each named part, e.g. revenue=30,tier=15; only those parts, each 0 or more."""
    weights = env_pairs(name, default, default, env)
    if set(weights) - set(parts) or any(weight < 0 for weight in weights.values()):
        raise ImproperlyConfigured(
            f"{name} takes {', '.join(parts[:-1])} and {parts[-1]} with weights of 0 or more, "
            f"got {env_str(name, default, env)!r}."
        )
    return weights


def env_credit_tiers(name: str, default: str, env: Mapping[str, str] | None = None) -> list[tuple[float, float]]:
    """Monthly uptime below the first number earns the second as a percentage of the month's fee, e.g.
    99.9=10,99.0=25,95.0=100; highest uptime first."""
    tiers = env_pairs(name, default, default, env)
    try:
        return sorted(((float(uptime), percent) for uptime, percent in tiers.items()), reverse=True)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must look like {default}, got {env_str(name, default, env)!r}.") from None


DURATION_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def env_durations(name: str, default: str, names: tuple[str, ...], env: Mapping[str, str] | None = None) -> dict:
    """A duration in seconds for each of these names, e.g. critical=15m,high=1h,normal=4h (units s, m or min, h,
    d); a name left out keeps its default; each above zero."""
    def parse(value: str) -> dict[str, int]:
        durations = {}
        for item in value.replace(" ", "").lower().split(","):
            key, _, amount = item.partition("=")
            match = re.fullmatch(r"(\d+)([a-z]+)", amount)
            if key not in names or key in durations or not match or match[2] not in DURATION_UNITS:
                raise ValueError(item)
            durations[key] = int(match[1]) * DURATION_UNITS[match[2]]
        return durations

    durations = parse(default)
    value = _raw(name, env)
    if value is None:
        return durations
    try:
        durations.update(parse(value))
    except ValueError:
        durations = {}
    if not durations or any(seconds <= 0 for seconds in durations.values()):
        raise ImproperlyConfigured(
            f"{name} must look like {default} (each of {', '.join(names)} at most once, a whole number above 0 "
            f"followed by s, m, h or d), got {value!r}."
        )
    return durations


def env_offsets(name: str, default: str, env: Mapping[str, str] | None = None) -> list[int]:
    """Comma-separated durations such as 72h,1h or 2d,30m (a whole number above 0 followed by s, m or min, h, d),
    as seconds, longest first and without repeats."""
    value = env_str(name, default, env)
    seconds = set()
    for item in value.replace(" ", "").lower().split(","):
        match = re.fullmatch(r"(\d{1,6})([a-z]+)", item)
        if not match or match[2] not in DURATION_UNITS or int(match[1]) == 0:
            raise ImproperlyConfigured(
                f"{name} must be a comma-separated list of durations such as 72h,1h (a whole number above 0 "
                f"followed by s, m, h or d), got {value!r}."
            )
        seconds.add(int(match[1]) * DURATION_UNITS[match[2]])
    return sorted(seconds, reverse=True)


def env_matching(name: str, pattern: str, example: str, secret: bool = False,
                 env: Mapping[str, str] | None = None) -> str:
    """A value the regular expression matches whole, or "" when unset. A secret is refused without being repeated
    (startup errors end up in logs)."""
    value = env_str(name, "", env)
    if value and not re.fullmatch(pattern, value):
        got = " (the value set is not; it is a secret, so it is not shown)" if secret else f", got {value!r}"
        raise ImproperlyConfigured(f"{name} must be {example}{got}.")
    return value


def env_phone_number(name: str, env: Mapping[str, str] | None = None) -> str:
    """An E.164 phone number (+ and 8 to 15 digits, the first not 0) such as +15005550006; "" when unset."""
    value = env_str(name, "", env)
    if value and not re.fullmatch(r"\+[1-9][0-9]{7,14}", value):
        raise ImproperlyConfigured(f"{name} must be an E.164 number such as +15005550006, got {value!r}.")
    return value
