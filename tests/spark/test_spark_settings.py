"""The Spark target's settings agree wherever they are written: the profile's `spark` output
and ingestion/spark's conf (the same catalog for dbt and for Python readers), the lake's root
in macros/spark and in ingestion/settings.py, the target dbt is told to build on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml

from ingestion.settings import (
    ENV_HOME,
    ENV_LAKE_URL,
    ENV_TARGET,
    REPO_ROOT,
    ConnectionSettings,
    Settings,
    SettingsError,
    lake_url,
    state_dir,
)
from ingestion.spark.session import metastore_dir, spark_conf, warehouse_dir
from ingestion.transform.dbt_profile import EXAMPLE_PROFILE, dbt_environment
from ingestion.transform.dbt_runner import target_args
from tests.environment import SHOPFLOW_ENV

pytestmark = pytest.mark.spark

LAKE_ROOT_MACRO = REPO_ROOT / "macros" / "spark" / "lake_root.sql"
FORCED_BY_DBT_SPARK = {"spark.sql.ansi.enabled": "false"}
"""dbt-spark sets this on every session it opens (connections.py), whatever the profile says."""
SETTINGS = ConnectionSettings("127.0.0.1", 54329, "shopflow", "secret", "shopflow", "ops", False)


class MacroReturn(Exception):  # noqa: N818 (control flow, as in dbt, not an error)
    """dbt's `return()` in a macro, for rendering one with plain Jinja."""

    def __init__(self, value: Any) -> None:
        super().__init__(value)
        self.value = value


def _return(value: Any) -> None:
    raise MacroReturn(value)


def jinja(environment: dict[str, str]) -> jinja2.Environment:
    """Plain Jinja with dbt's `env_var()` reading ``environment`` and dbt's `return()`."""

    def env_var(name: str, default: str | None = None) -> str:
        if name in environment:
            return environment[name]
        if default is None:
            raise KeyError(name)
        return default

    engine = jinja2.Environment(extensions=["jinja2.ext.do"])
    engine.globals.update(env_var=env_var, **{"return": _return})
    return engine


def spark_output(environment: dict[str, str]) -> dict[str, Any]:
    """profiles.example.yml's `spark` output, its settings rendered as dbt would."""
    output = yaml.safe_load(EXAMPLE_PROFILE.read_text())["shopflow"]["outputs"]["spark"]
    engine = jinja(environment)
    parameters = {
        key: engine.from_string(str(value)).render()
        for key, value in output["server_side_parameters"].items()
    }
    return {**output, "server_side_parameters": parameters}


def macro_lake_root(environment: dict[str, str]) -> str:
    module = jinja(environment).from_string(LAKE_ROOT_MACRO.read_text()).module
    with pytest.raises(MacroReturn) as returned:
        module.lake_root()  # type: ignore[attr-defined]
    return str(returned.value.value)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (*SHOPFLOW_ENV, ENV_LAKE_URL, ENV_TARGET):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_state_folders_sit_under_the_spark_folder(tmp_path: Path) -> None:
    conf = spark_conf(tmp_path)
    assert conf["spark.sql.warehouse.dir"] == str(warehouse_dir(tmp_path))
    assert warehouse_dir(tmp_path) == tmp_path / "warehouse"
    assert (
        f"databaseName={metastore_dir(tmp_path)};"
        in (conf["spark.hadoop.javax.jdo.option.ConnectionURL"])
    )
    assert conf["spark.sql.session.timeZone"] == "UTC"
    assert conf["spark.master"] == "local[2]"


def test_the_profile_opens_the_catalog_python_readers_open(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    output = spark_output({ENV_HOME: str(tmp_path)})
    assert (output["type"], output["method"], output["threads"]) == ("spark", "session", 1)
    rendered = {**output["server_side_parameters"], **FORCED_BY_DBT_SPARK}
    assert rendered == spark_conf(tmp_path / "spark")


def test_the_profile_keeps_its_state_in_the_state_folder_by_default(
    clean_env: pytest.MonkeyPatch,
) -> None:
    parameters = spark_output({})["server_side_parameters"]
    # dbt runs in the project folder, where the relative default is read
    assert REPO_ROOT / parameters["spark.sql.warehouse.dir"] == warehouse_dir(state_dir() / "spark")


@pytest.mark.parametrize(
    "environment",
    [
        {},
        {ENV_HOME: "/srv/shopflow"},
        {ENV_HOME: "/srv/shopflow", ENV_LAKE_URL: "/data/lake/"},
    ],
)
def test_the_lake_macro_and_settings_agree(
    clean_env: pytest.MonkeyPatch, environment: dict[str, str]
) -> None:
    for name, value in environment.items():
        clean_env.setenv(name, value)
    # dbt runs in the project folder, where a relative root is read
    assert str(REPO_ROOT / macro_lake_root(environment)) == lake_url()


def test_the_lake_macro_reads_s3_through_hadoops_connector() -> None:
    assert macro_lake_root({ENV_LAKE_URL: "s3://bucket/lake/"}) == "s3a://bucket/lake"


def test_dbt_is_handed_the_state_folder_and_the_lake_as_absolute_paths(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env.setenv(ENV_HOME, str(tmp_path / "home"))
    environment = dbt_environment(SETTINGS, Settings.from_environment())
    assert environment[ENV_HOME] == str(tmp_path / "home")
    assert environment[ENV_LAKE_URL] == str(tmp_path / "home" / "lake")


def test_the_target_comes_from_shopflow_target(clean_env: pytest.MonkeyPatch) -> None:
    assert target_args(Settings.from_environment().target) == []  # the profile's default
    clean_env.setenv(ENV_TARGET, "spark")
    assert target_args(Settings.from_environment().target) == ["--target", "spark"]
    assert target_args("dev") == []
    clean_env.setenv(ENV_TARGET, "sparks")
    with pytest.raises(SettingsError, match="SHOPFLOW_TARGET='sparks' is not a target"):
        Settings.from_environment()
