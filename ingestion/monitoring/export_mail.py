"""E-mailing export files: `shopflow export ... --mail` sends the files it just wrote, as
attachments, to the apprise e-mail URLs in ``SHOPFLOW_EXPORT_MAIL_URL`` (``mailto://`` plain or
STARTTLS, ``mailtos://`` TLS; docs/exports.md). The files are written first and stay where they
are whatever the mail does: a failed delivery is one sentence naming the receiver (its
password masked) and the folder the files are in.
"""

from __future__ import annotations

from collections.abc import Sequence

import apprise
from apprise.utils.parse import parse_urls

from ingestion.exports import ExportResult
from ingestion.monitoring.alerts import Notice, send
from ingestion.settings import ENV_EXPORT_MAIL_URL

MAIL_SCHEMES = ("mailto", "mailtos")
MAIL_DEADLINE_SECONDS = 60.0
"""The whole delivery, attachments included (an alert has 15 s: it carries no files)."""


class MailNotDeliveredError(RuntimeError):
    """The files were written but not mailed; the message says why and where they are."""


def mail_urls(configured: str) -> list[str]:
    """The e-mail URLs of ``SHOPFLOW_EXPORT_MAIL_URL``; ``MailNotDeliveredError`` when it is
    unset or names a service that would drop the attachments."""
    urls = [url for url in parse_urls(configured) if url.strip()]
    if not urls:
        raise MailNotDeliveredError(
            f"--mail needs {ENV_EXPORT_MAIL_URL}: set it to an e-mail URL such as "
            "mailtos://user:password@smtp.example.com?to=finance@example.com (docs/exports.md)."
        )
    others = [url.split("://", 1)[0] for url in urls if url.split("://", 1)[0] not in MAIL_SCHEMES]
    if others:
        raise MailNotDeliveredError(
            f"{ENV_EXPORT_MAIL_URL} holds a {others[0]}:// URL: --mail sends files as "
            "attachments, which only e-mail (mailto:// or mailtos://) receives."
        )
    return urls


def files_notice(results: Sequence[ExportResult]) -> Notice:
    """The message: one line per file (question, rows, file name), the files attached."""
    lines = [f"{r.name}: {r.rows:,} rows ({r.path.name})" for r in results]
    return Notice(
        title=f"ShopFlow exports: {len(results)} file{'s' if len(results) != 1 else ''}",
        body="The files are attached.\n\n" + "\n".join(lines),
        notify_type=apprise.NotifyType.INFO,
        attachments=tuple(r.path for r in results),
    )


def mail_files(results: Sequence[ExportResult], configured: str) -> int:
    """Mail the written files to every URL in ``configured``; how many receivers took them.
    ``MailNotDeliveredError`` (one sentence) when a receiver did not."""
    urls = mail_urls(configured)
    folder = results[0].path.parent  # an export writes at least one file
    outcome = send(
        files_notice(results), urls, deadline=MAIL_DEADLINE_SECONDS, setting=ENV_EXPORT_MAIL_URL
    )
    if outcome.problems:
        raise MailNotDeliveredError(
            f"{outcome.problems[0].rstrip('.')}; the files stay in {folder}."
        )
    return outcome.delivered
