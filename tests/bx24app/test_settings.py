"""Production settings: missing secrets stop the start with a clear message; `check --deploy` is clean."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "APP_ENV": "production",
    "SECRET_KEY": "x" * 64 + "-production-like-secret-key-!@#",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/bx24app",
    "REDIS_URL": "redis://127.0.0.1:6379/1",
    "FIELD_ENCRYPTION_KEY": "production-like-key",
    "BITRIX24_CLIENT_ID": "app.1234",
    "BITRIX24_CLIENT_SECRET": "secret",
    "APP_BASE_URL": "https://connector.example.com",
}


def _manage(args, env):
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=120)


def test_missing_database_url_in_production_names_the_variable():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DATABASE_URL"}
    result = _manage(["check"], env)
    assert result.returncode != 0
    assert "DATABASE_URL is required in production" in result.stderr


def test_check_deploy_has_no_errors_with_production_like_settings():
    result = _manage(["check", "--deploy", "--fail-level", "WARNING"], PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
