from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import ROOT
from rag.config import Settings, load_settings
from rag.errors import ConfigError


def _example_keys() -> list[str]:
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    return [m.group(1) for line in lines if (m := re.match(r"#?\s*(RAG_[A-Z0-9_]+)=", line))]


def test_env_example_lists_every_setting_once() -> None:
    expected = sorted(f"RAG_{name.upper()}" for name in Settings.model_fields)
    assert sorted(_example_keys()) == expected


def test_env_example_comments_every_setting() -> None:
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if re.match(r"#?\s*RAG_[A-Z0-9_]+=", line):
            assert lines[i - 1].startswith("# "), f"no comment above {line}"


def test_env_example_values_are_valid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    (tmp_path / ".env").write_text(example, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert load_settings() == Settings(_env_file=None)


def test_environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_TOP_K", "9")
    monkeypatch.setenv("RAG_CHROMA_HOST", "127.0.0.1")
    settings = load_settings()
    assert settings.top_k == 9
    assert settings.chroma_host == "127.0.0.1"


def test_wrong_type_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_TOP_K", "många")
    with pytest.raises(ConfigError, match="RAG_TOP_K"):
        load_settings()


def test_unknown_key_in_env_file_is_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("RAG_TOPK=3\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="RAG_TOPK"):
        load_settings()


def test_safe_defaults() -> None:
    settings = Settings(_env_file=None)
    assert settings.host == "127.0.0.1"
    assert settings.auth_users is None and not settings.log_questions
    secret = Settings(_env_file=None, auth_users="anna:hemligt", llm_api_key="sk-x")
    assert "hemligt" not in repr(secret) and "sk-x" not in str(secret.model_dump())


def test_auth_users_parse_without_showing_passwords() -> None:
    from pydantic import SecretStr

    from rag.auth import parse_users

    assert parse_users(None) is None and parse_users(SecretStr(" ")) is None
    assert parse_users(SecretStr("anna:hem:ligt, bo:pw")) == [("anna", "hem:ligt"), ("bo", "pw")]
    with pytest.raises(ConfigError, match="entry 2") as error:
        parse_users(SecretStr("anna:hemligt,:pw2"))
    assert "hemligt" not in str(error.value) and "pw2" not in str(error.value)
