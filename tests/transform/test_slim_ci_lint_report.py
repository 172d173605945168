"""Slim CI's lint failure as a person reads it: `file:line:col: RULE message` per problem (no
rich markup to swallow brackets), then the `sqlfluff fix` command for the files at fault."""

from __future__ import annotations

import json

from ingestion.transform.slim_ci import LintProblem, lint_failure_message, parse_lint_report


def violation(line: int, column: int, code: str, description: str, warning: bool = False) -> dict:
    return {
        "start_line_no": line,
        "start_line_pos": column,
        "code": code,
        "description": description,
        "name": "layout.spacing",
        "warning": warning,
    }


REPORT = json.dumps(
    [
        {
            "filepath": "dbt_project/models/staging/files/stg_files__marketing_spend.sql",
            "violations": [
                violation(3, 5, "CP01", "Keywords must be consistently lower case."),
                violation(9, 101, "LT05", "Line is too long [105 > 100]."),
                violation(12, 1, "LT12", "Files must end with a single trailing newline.", True),
            ],
        },
        {"filepath": "dbt_project/models/marts/core/dim_date.sql", "violations": []},
        {
            "filepath": "tests/dbt/assert_x.sql",
            "violations": [violation(1, 8, "PRS", "Couldn't find closing bracket.")],
        },
    ]
)


def test_each_problem_names_file_line_column_and_rule() -> None:
    problems = parse_lint_report(REPORT)
    assert problems is not None
    assert [str(problem) for problem in problems] == [
        "dbt_project/models/staging/files/stg_files__marketing_spend.sql:3:5: CP01 "
        "Keywords must be consistently lower case.",
        "dbt_project/models/staging/files/stg_files__marketing_spend.sql:9:101: LT05 "
        "Line is too long [105 > 100].",
        "tests/dbt/assert_x.sql:1:8: PRS Couldn't find closing bracket.",
    ]


def test_the_report_is_found_after_the_templaters_log_lines() -> None:
    problems = parse_lint_report(f"12:00:01  Running with dbt=1.10\n{REPORT}\n")
    assert problems is not None
    assert len(problems) == 3


def test_no_report_when_sqlfluff_itself_failed() -> None:
    assert parse_lint_report("") is None
    assert parse_lint_report("Traceback (most recent call last):\n  [oops") is None


def test_the_message_ends_with_the_fix_command_for_the_files_at_fault() -> None:
    problems = [
        LintProblem("b.sql", 1, 1, "LT01", "Expected single whitespace."),
        LintProblem("a.sql", 2, 3, "CP01", "Keywords must be consistently lower case."),
        LintProblem("b.sql", 4, 1, "LT05", "Line is too long [105 > 100]."),
    ]
    lines = lint_failure_message(problems).splitlines()
    assert lines[0] == "sqlfluff found 3 problem(s) in the changed SQL files:"
    assert lines[1:4] == [str(problem) for problem in problems]
    assert lines[-1].endswith("sqlfluff fix a.sql b.sql")
