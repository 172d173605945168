"""An exception chain as one sentence with its root cause (`ingestion.root_cause`)."""

from __future__ import annotations

import socket

import pytest
import requests

from ingestion.database.errors import DatabaseError
from ingestion.root_cause import exception_chain, root_cause
from tests.ports import free_port


def raised(function) -> BaseException:  # type: ignore[no-untyped-def]
    try:
        function()
    except Exception as exc:
        return exc
    raise AssertionError("nothing was raised")


def test_a_refused_connection_names_the_address_and_the_reason() -> None:
    port = free_port()
    exc = raised(lambda: requests.get(f"http://127.0.0.1:{port}/v1/products?x=1", timeout=2))

    class PipelineStepFailedError(Exception):
        """Stands for dlt's wrapper: a long message, the real error as its cause."""

    def wrapped() -> None:
        raise PipelineStepFailedError("Pipeline execution failed at `step=extract` ...") from exc

    assert root_cause(raised(wrapped)) == f"http://127.0.0.1:{port}: connection refused"


def test_credentials_in_the_url_never_reach_the_sentence() -> None:
    port = free_port()
    exc = raised(lambda: requests.get(f"http://user:s3cret@127.0.0.1:{port}/x", timeout=2))
    assert root_cause(exc) == f"http://127.0.0.1:{port}: connection refused"


def test_the_innermost_exception_is_named_with_its_first_line() -> None:
    def chain() -> None:
        try:
            raise KeyError("price")
        except KeyError as inner:
            raise RuntimeError("extraction of resource `products` failed") from inner

    assert root_cause(raised(chain)) == "KeyError: 'price'"


def test_a_message_of_the_project_wins_over_its_causes() -> None:
    def chain() -> None:
        try:
            raise OSError("could not connect: Connection refused")
        except OSError as inner:
            raise DatabaseError("The warehouse is not running: run `shopflow db start`.") from inner

    assert root_cause(raised(chain)) == "The warehouse is not running: run `shopflow db start`."


def test_a_single_exception_is_its_own_message_on_one_line_and_cut() -> None:
    assert root_cause(ValueError("first line\nsecond")) == "first line"
    long = root_cause(ValueError("x" * 1000), limit=50)
    assert len(long) == 50 and long.endswith("...")


def test_a_cycle_in_the_chain_ends() -> None:
    first, second = ValueError("a"), ValueError("b")
    first.__cause__, second.__cause__ = second, first
    assert [str(e) for e in exception_chain(first)] == ["a", "b"]


@pytest.mark.parametrize(
    ("error", "reason"),
    [(TimeoutError("read"), "timed out"), (socket.gaierror(-2, "Name"), "host name not found")],
)
def test_network_reasons(error: BaseException, reason: str) -> None:
    def chain() -> None:
        raise RuntimeError("outer") from error

    assert root_cause(raised(chain)) == reason
