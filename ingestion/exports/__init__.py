"""Named questions on the marts, exported to csv or parquet files (`shopflow export`)."""

from ingestion.exports.exporter import (
    MARTS_SCHEMA,
    AsOfNotSupportedError,
    ExportResult,
    MartsNotBuiltError,
    export_all,
    export_question,
)
from ingestion.exports.formats import ExportFormat
from ingestion.exports.questions import QUESTIONS, Question, UnknownQuestionError, question

__all__ = [
    "MARTS_SCHEMA",
    "QUESTIONS",
    "AsOfNotSupportedError",
    "ExportFormat",
    "ExportResult",
    "MartsNotBuiltError",
    "Question",
    "UnknownQuestionError",
    "export_all",
    "export_question",
    "question",
]
