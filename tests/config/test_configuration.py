"""The config module: its list of variables matches the docs and .env.example, `.env` is read
once on import and the shell wins over it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from ingestion import settings
from ingestion.settings import ENV_NAMES, REPO_ROOT

DOC = REPO_ROOT / "docs" / "configuration.md"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
NAME = r"[A-Z][A-Z0-9_]*"


def documented_names() -> list[str]:
    """The first-column names of the table under "## Variables" in docs/configuration.md."""
    section = DOC.read_text().split("## Variables", 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"^\| `({NAME})` \|", section, flags=re.MULTILINE)


def env_example_names() -> list[str]:
    """Names assigned in .env.example, commented out (``# NAME=``) or not."""
    return re.findall(rf"^(?:# )?({NAME})=", ENV_EXAMPLE.read_text(), flags=re.MULTILINE)


def test_config_module_names_each_variable_once() -> None:
    assert len(ENV_NAMES) == len(set(ENV_NAMES))
    constants = {
        value
        for key, value in vars(settings).items()
        if key.startswith("ENV_") and key != "ENV_NAMES"
    }
    assert constants == set(ENV_NAMES)


def test_docs_table_lists_exactly_the_declared_variables() -> None:
    names = documented_names()
    assert len(names) == len(set(names)), "a variable is listed twice"
    assert sorted(names) == sorted(ENV_NAMES)


def test_env_example_lists_exactly_the_declared_variables() -> None:
    names = env_example_names()
    assert len(names) == len(set(names)), "a variable is listed twice"
    assert sorted(names) == sorted(ENV_NAMES)


def test_no_module_reads_a_project_variable_by_its_literal_name() -> None:
    """Every project variable is read through the config module: no other module spells it."""
    package = REPO_ROOT / "ingestion"
    offenders = [
        f"{path.relative_to(REPO_ROOT)}: {name}"
        for path in package.rglob("*.py")
        if path.name != "settings.py" or path.parent != package
        for name in ENV_NAMES
        if re.search(rf"""["']{name}["']""", path.read_text())
    ]
    assert offenders == []


def settings_in_a_new_process(env_file: Path, shell: dict[str, str]) -> dict[str, object]:
    """What a fresh process (a new shell) sees after `ingestion.settings` is imported."""
    script = (
        "import json, os\n"
        "from ingestion import settings as s\n"
        "names = [s.ENV_USER, s.ENV_DATABASE, s.ENV_LOG_LEVEL, s.ENV_PORT]\n"
        "print(json.dumps({\n"
        "    'values': {n: os.environ.get(n) for n in names},\n"
        "    'origins': {n: s.origin(n) for n in names},\n"
        "    'log_level': s.log_level(),\n"
        "    'explicit_port': s.explicit_port(),\n"
        "}))\n"
    )
    env = {name: value for name, value in os.environ.items() if name not in ENV_NAMES}
    env.update({settings.ENV_ENV_FILE: str(env_file), **shell})
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(result.stdout))


def test_env_file_is_read_and_the_shell_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# a comment\n"
        "SHOPFLOW_PG_USER=from_file\n"
        "SHOPFLOW_PG_DATABASE=from_file\n"
        "SHOPFLOW_LOG_LEVEL=info\n"
        "SHOPFLOW_PG_PORT=54399\n"
    )

    seen = settings_in_a_new_process(env_file, {"SHOPFLOW_PG_USER": "from_shell"})

    assert seen["values"] == {
        "SHOPFLOW_PG_USER": "from_shell",
        "SHOPFLOW_PG_DATABASE": "from_file",
        "SHOPFLOW_LOG_LEVEL": "info",
        "SHOPFLOW_PG_PORT": "54399",
    }
    assert seen["origins"] == {
        "SHOPFLOW_PG_USER": "the shell",
        "SHOPFLOW_PG_DATABASE": ".env",
        "SHOPFLOW_LOG_LEVEL": ".env",
        "SHOPFLOW_PG_PORT": ".env",
    }
    assert seen["log_level"] == 20  # logging.INFO
    assert seen["explicit_port"] == 54399  # a port in .env is set explicitly: it wins


def test_an_empty_value_in_the_shell_still_wins_over_the_file(tmp_path: Path) -> None:
    env_file = tmp_path / "custom.env"
    env_file.write_text("SHOPFLOW_PG_DATABASE=from_file\n")

    seen = settings_in_a_new_process(env_file, {"SHOPFLOW_PG_DATABASE": ""})

    assert seen["values"]["SHOPFLOW_PG_DATABASE"] == ""  # type: ignore[index]


def test_cli_uses_the_env_file(tmp_path: Path) -> None:
    """`shopflow db url` in a new process: database from .env, user from the shell."""
    env_file = tmp_path / ".env"
    env_file.write_text("SHOPFLOW_PG_DATABASE=dotenv_db\nSHOPFLOW_PG_USER=dotenv_user\n")
    env = {name: value for name, value in os.environ.items() if name not in ENV_NAMES}
    env.update(
        {
            settings.ENV_ENV_FILE: str(env_file),
            settings.ENV_HOME: str(tmp_path / "home"),
            settings.ENV_USER: "shell_user",
        }
    )
    shopflow = str(Path(sys.executable).with_name("shopflow"))

    result = subprocess.run(
        [shopflow, "db", "url"], env=env, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    url = result.stdout.strip()
    assert url.startswith("postgresql://shell_user:")
    assert url.endswith("@127.0.0.1:54329/dotenv_db")


def test_unknown_log_level_is_refused_plainly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(settings.ENV_LOG_LEVEL, "chatty")
    with pytest.raises(settings.SettingsError, match="SHOPFLOW_LOG_LEVEL='chatty'"):
        settings.check_environment()
    assert settings.log_level() == 30  # configure_logging still works: the default


def test_empty_folder_setting_means_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(settings.ENV_EXPORT_DIR, "")
    assert settings.export_dir() == REPO_ROOT / "exports"


def test_the_business_date_is_a_day_or_refused_plainly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(settings.ENV_BUSINESS_DATE, raising=False)
    assert settings.business_date() is None
    monkeypatch.setenv(settings.ENV_BUSINESS_DATE, "2025-12-01")
    assert settings.business_date() == date(2025, 12, 1)
    monkeypatch.setenv(settings.ENV_BUSINESS_DATE, "01/12/2025")
    with pytest.raises(settings.SettingsError, match="SHOPFLOW_BUSINESS_DATE='01/12/2025'"):
        settings.check_environment()


def test_the_password_is_never_in_the_settings_repr() -> None:
    """A logged settings object or a traceback's locals (pytest prints them) keeps it out."""
    secret = "never-shown-7f3a"
    connection = settings.ConnectionSettings("h", 5432, "u", secret, "d", "o", False)
    assert secret not in repr(connection) and secret not in str(connection)
    assert connection.password == secret
