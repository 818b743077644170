"""A configuration mistake stops startup with a sentence naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_database, env_http_url, env_int, env_redis_url, env_time_zone

ROOT = Path(__file__).resolve().parent.parent


def manage_check(tmp_path, **variables):
    """Run `manage.py check` in a fresh process with only these variables set."""
    inherited = ("DATABASE_", "REDIS_", "X_", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS")
    env = {key: value for key, value in os.environ.items() if not key.startswith(inherited)}
    env.update({"VAR_DIR": str(tmp_path), "DEBUG": "true"}, **variables)
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    "value", ["http://127.0.0.1:6379", "localhost:6379", "redis://", "redis://host:port/0", "redis://host/db"]
)
def test_a_malformed_redis_url_is_refused_naming_the_variable(value):
    with pytest.raises(ImproperlyConfigured, match=r"^REDIS_URL must be a redis:// URL"):
        env_redis_url("REDIS_URL", {"REDIS_URL": value})


def test_a_wellformed_redis_url_is_accepted_and_an_unset_one_means_embedded_mode():
    assert env_redis_url("REDIS_URL", {"REDIS_URL": "redis://127.0.0.1:6379/2"}) == "redis://127.0.0.1:6379/2"
    assert env_redis_url("REDIS_URL", {}) is None


@pytest.mark.parametrize(
    "value", ["mysql://root@localhost/app", "postgres://", "postgres://localhost", "not a url", "pg://h/db"]
)
def test_a_malformed_database_url_is_refused_naming_the_variable(value):
    with pytest.raises(ImproperlyConfigured, match=r"^DATABASE_URL "):
        env_database("DATABASE_URL", "sqlite:///x", {"DATABASE_URL": value})


def test_a_postgres_database_url_selects_postgresql_with_its_parts():
    config = env_database("DATABASE_URL", "sqlite:///x", {"DATABASE_URL": "postgres://app:pw@db.internal:6543/ears"})
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"], config["USER"]) == ("db.internal", 6543, "ears", "app")


def test_the_default_database_is_sqlite_with_locking_tuned_for_several_processes(tmp_path):
    config = env_database("DATABASE_URL", f"sqlite:///{tmp_path}/db.sqlite3", {})
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


@pytest.mark.parametrize(
    ("helper", "name", "value", "message"),
    [
        (lambda e: env_bool("DEBUG", True, e), "DEBUG", "maybe", "DEBUG must be true or false"),
        (lambda e: env_int("EMAIL_PORT", 25, 1, e), "EMAIL_PORT", "smtp", "EMAIL_PORT must be a whole number"),
        (lambda e: env_int("EMAIL_PORT", 25, 1, e), "EMAIL_PORT", "0", "EMAIL_PORT must be at least 1"),
        (lambda e: env_http_url("SITE_URL", "http://x", e), "SITE_URL", "status.example.com", "SITE_URL must be"),
        (lambda e: env_time_zone("TIME_ZONE", "UTC", e), "TIME_ZONE", "Mars/Olympus", "TIME_ZONE must be an IANA"),
    ],
)
def test_each_helper_names_the_variable_it_refuses(helper, name, value, message):
    with pytest.raises(ImproperlyConfigured, match=f"^{message}"):
        helper({name: value})


def test_startup_with_a_bad_redis_url_stops_with_one_sentence_naming_it(tmp_path):
    result = manage_check(tmp_path, REDIS_URL="http://127.0.0.1:6379")
    assert result.returncode == 2
    assert result.stderr.startswith("Configuration error: REDIS_URL must be a redis:// URL")
    assert "Traceback" not in result.stderr


def test_startup_with_a_bad_database_url_stops_naming_it(tmp_path):
    result = manage_check(tmp_path, DATABASE_URL="mysql://root@localhost/ears")
    assert result.returncode == 2
    assert "Configuration error: DATABASE_URL must be a URL such as postgres://" in result.stderr


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = manage_check(tmp_path, DEBUG="false", ALLOWED_HOSTS="status.example.com")
    assert result.returncode == 2
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_production_starts_with_a_long_secret_key_and_allowed_hosts(tmp_path):
    result = manage_check(tmp_path, DEBUG="false", ALLOWED_HOSTS="status.example.com", SECRET_KEY="k" * 60)
    assert result.returncode == 0, result.stderr


def test_partial_x_credentials_name_the_missing_variable(tmp_path):
    result = manage_check(tmp_path, X_API_KEY="key", X_API_SECRET="secret")
    assert result.returncode == 2
    assert "X_ACCESS_TOKEN must be set" in result.stderr


def test_the_embedded_default_needs_no_server(tmp_path):
    result = manage_check(tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "broker" / "queue").is_dir()


@pytest.mark.parametrize("name, value, message", [
    ("IMPACT_SCORE_WEIGHTS", "revenue=lots", "IMPACT_SCORE_WEIGHTS must look like revenue=30,"),
    ("IMPACT_SCORE_WEIGHTS", "revenue=30,colour=5", "IMPACT_SCORE_WEIGHTS takes revenue, tier, impact"),
    ("IMPACT_SCORE_WEIGHTS", "revenue=-1", "with weights of 0 or more"),
    ("SLA_CREDIT_TIERS", "99.9:10", "SLA_CREDIT_TIERS must look like 99.9=10,99.0=25,95.0=100"),
    ("SLA_CREDIT_TIERS", "high=10", "SLA_CREDIT_TIERS must look like 99.9=10,99.0=25,95.0=100"),
    ("IMPACT_TOP_N", "0", "IMPACT_TOP_N must be at least 1"),
])
def test_a_malformed_accounts_setting_stops_startup_naming_it(tmp_path, name, value, message):
    result = manage_check(tmp_path, **{name: value})

    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_every_variable_the_settings_read_is_documented_in_the_readme():
    import re

    settings_text = (ROOT / "config" / "settings.py").read_text()
    read = set(re.findall(r'env_\w+\(\s*"([A-Z_]+)"', settings_text)) | set(re.findall(r'_pairs\(\s*"([A-Z_]+)"',
                                                                                        settings_text))
    readme = (ROOT / "README.md").read_text()

    assert read and not sorted(name for name in read if f"`{name}`" not in readme)
