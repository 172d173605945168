"""`--mail`: the written files reach a real SMTP server as attachments; a refused or absent
server, an unset or non-e-mail URL is one sentence and the files stay."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingestion.exports import ExportFormat, ExportResult
from ingestion.monitoring.export_mail import MailNotDeliveredError, mail_files
from ingestion.settings import ENV_EXPORT_MAIL_URL
from tests.mail_server import smtp_server
from tests.ports import free_port


def written(tmp_path: Path) -> list[ExportResult]:
    files = {
        "monthly_revenue_by_channel": b"month_start_date,channel,net_revenue_usd\n"
        b"2025-11-01,web,48653.90\n",
        "open_orders": b"order_id,ordered_at\n7,2025-12-30T10:15:00Z\n",
    }
    results = []
    for name, content in files.items():
        path = tmp_path / f"{name}_20261207T101500Z.csv"
        path.write_bytes(content)
        results.append(ExportResult(name, path, 1, ExportFormat.CSV))
    return results


def test_every_file_arrives_attached_byte_for_byte(tmp_path: Path) -> None:
    results = written(tmp_path)
    with smtp_server() as box:
        assert mail_files(results, box.url) == 1
    assert box.recipients == [["finance@example.com"]]
    assert box.attachments() == {r.path.name: r.path.read_bytes() for r in results}
    assert box.messages[0]["Subject"] == "ShopFlow exports: 2 files"
    body = next(
        part.get_payload(decode=True)
        for part in box.messages[0].walk()
        if part.get_content_type() == "text/plain" and not part.get_filename()
    )
    assert b"monthly_revenue_by_channel: 1 rows" in body


def test_a_refusing_server_is_one_sentence_and_the_files_stay(tmp_path: Path) -> None:
    results = written(tmp_path)
    with (
        smtp_server(reply="554 5.7.1 attachments not accepted") as box,
        pytest.raises(MailNotDeliveredError) as caught,
    ):
        mail_files(results, box.url)
    message = str(caught.value)
    assert "\n" not in message
    assert "127.0.0.1" in message and f"the files stay in {tmp_path}" in message
    assert all(r.path.is_file() for r in results)
    assert box.messages == []


def test_no_server_listening_is_one_sentence(tmp_path: Path) -> None:
    url = f"mailto://127.0.0.1:{free_port()}/?from=shopflow@example.com&to=x@example.com"
    with pytest.raises(MailNotDeliveredError, match=r"could not deliver .*the files stay in"):
        mail_files(written(tmp_path), url)


@pytest.mark.parametrize(
    ("configured", "said"),
    [
        ("", f"--mail needs {ENV_EXPORT_MAIL_URL}"),
        ("json://127.0.0.1/hook", "holds a json:// URL"),
        ("mailto://127.0.0.1/?to=a@example.com, slack://T/B/C", "holds a slack:// URL"),
    ],
)
def test_an_unset_or_non_mail_url_is_refused(configured: str, said: str, tmp_path: Path) -> None:
    with pytest.raises(MailNotDeliveredError, match=said):
        mail_files(written(tmp_path), configured)


def test_a_password_in_the_url_never_reaches_the_message(tmp_path: Path) -> None:
    port = free_port()
    url = f"mailto://finance:s3cret-pw@127.0.0.1:{port}/?from=a@example.com&to=b@example.com"
    with pytest.raises(MailNotDeliveredError) as caught:
        mail_files(written(tmp_path), url)
    assert "s3cret-pw" not in str(caught.value)
