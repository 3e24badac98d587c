"""The settings object fails fast on unsafe configuration."""

from __future__ import annotations

import pytest

from crm_app.settings import Settings


def test_a_known_default_secret_is_refused_in_production(tmp_path):
    settings = Settings(CRM_ENV="prod", CRM_SECRET_KEY="changeme", CRM_DATA_DIR=tmp_path)
    with pytest.raises(RuntimeError, match="known default"):
        settings.resolved_secret_key()


def test_without_a_secret_one_is_generated_once_into_the_data_folder(tmp_path):
    settings = Settings(CRM_ENV="prod", CRM_SECRET_KEY="", CRM_DATA_DIR=tmp_path)
    first = settings.resolved_secret_key()
    assert len(first) >= 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert Settings(CRM_ENV="prod", CRM_DATA_DIR=tmp_path).resolved_secret_key() == first


def test_plain_postgresql_urls_use_psycopg():
    settings = Settings(DATABASE_URL="postgresql://u:p@db/crm")
    assert settings.database_url == "postgresql+psycopg://u:p@db/crm"


def test_base_url_defaults_to_the_port():
    assert Settings(PORT=4000, CRM_BASE_URL="").base_url == "http://localhost:4000"
