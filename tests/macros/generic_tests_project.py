"""The generic tests' proof project: seeds with good and bad rows, and a properties file that
applies every home-made generic test to both, each instance named after the outcome it must
have (`__pass`, `__fail`, `__warn`); and the failing rows some failures must count exactly."""

from __future__ import annotations

from tests.macros.proof_projects import proof_project_yml

PROJECT_NAME = "generic_tests_proof"
SEED_SCHEMA = "generic_tests_proof"

DBT_PROJECT_YML = proof_project_yml(
    PROJECT_NAME, f"seeds:\n  {PROJECT_NAME}:\n    +schema: {SEED_SCHEMA}\n"
)

SEEDS: dict[str, str] = {
    "range_good": "amount\n0\n0.25\n0.5\n\n",
    "range_bad": "amount\n0.1\n0.6\n-0.2\n",
    "numbers_good": "quantity\n0\n3\n\n",
    "numbers_bad": "quantity\n-1\n2\n",
    "emails_good": (
        "email\na@b.com\nfirst.last+tag@mail.example.co.uk\nUPPER_case@Example.ORG\n\n"
    ),
    "emails_bad": (
        "email\na@b.com\nno-at-sign.example.com\ntwo@@example.com\n"
        "spaces in@example.com\nmissing@tld\n"
    ),
    "events_recent": "event_at\n2026-01-05 10:00:00\n2026-01-09 23:00:00\n",
    "events_stale": "event_at\n2025-12-20 10:00:00\n2026-01-01 00:00:00\n",
    "rows_three": "row_id\n1\n2\n3\n",
    "rows_three_again": "row_id\n10\n20\n30\n",
    "rows_five": "row_id\n1\n2\n3\n4\n5\n",
    "pairs_good": "order_id,line_number\n1,1\n1,2\n2,1\n",
    "pairs_bad": "order_id,line_number\n1,1\n1,1\n2,1\n",
    "scd_good": (
        "customer_id,valid_from,valid_to\n"
        "1,2025-01-01,2025-02-01\n1,2025-02-01,2025-03-01\n1,2025-03-01,\n"
        "2,2025-01-15,\n"
    ),
    "scd_overlap": "customer_id,valid_from,valid_to\n1,2025-01-01,2025-03-01\n1,2025-02-01,\n",
    "scd_two_current": "customer_id,valid_from,valid_to\n1,2025-01-01,\n1,2025-02-01,\n",
    "scd_no_current": ("customer_id,valid_from,valid_to\n1,2025-01-01,2025-02-01\n2,2025-01-01,\n"),
    "scd_inverted": ("customer_id,valid_from,valid_to\n1,2025-03-01,2025-02-01\n1,2025-03-01,\n"),
    "scd_sentinel": (
        "customer_id,valid_from,valid_to\n1,2025-01-01,2025-02-01\n1,2025-02-01,9999-12-31\n"
    ),
    "amounts_good": "gross_amount,net_amount\n10,8\n5,5\n",
    "amounts_bad": "gross_amount,net_amount\n10,8\n10,12\n",
}

SCD_TYPES = "{customer_id: integer, valid_from: timestamp, valid_to: timestamp}"

PROPERTIES_YML = f"""\
version: 2

seeds:
  - name: range_good
    config: {{column_types: {{amount: numeric}}}}
    columns:
      - name: amount
        data_tests:
          - accepted_range:
              name: accepted_range__inside_inclusive_bounds__pass
              arguments: {{min_value: 0, max_value: 0.5}}
          - accepted_range:
              name: accepted_range__on_exclusive_bounds__fail
              arguments: {{min_value: 0, max_value: 0.5, inclusive: false}}
  - name: range_bad
    config: {{column_types: {{amount: numeric}}}}
    columns:
      - name: amount
        data_tests:
          - accepted_range:
              name: accepted_range__outside_bounds__fail
              arguments: {{min_value: 0, max_value: 0.5}}
          - accepted_range:
              name: accepted_range__only_upper_bound__pass
              arguments: {{max_value: 1}}
          - accepted_range:
              name: accepted_range__outside_bounds_filtered_by_where__pass
              arguments: {{min_value: 0, max_value: 0.5}}
              config: {{where: "amount between 0 and 0.5"}}

  - name: numbers_good
    config: {{column_types: {{quantity: integer}}}}
    columns:
      - name: quantity
        data_tests:
          - not_negative:
              name: not_negative__zero_positive_and_null__pass
  - name: numbers_bad
    config: {{column_types: {{quantity: integer}}}}
    columns:
      - name: quantity
        data_tests:
          - not_negative:
              name: not_negative__negative_quantity__fail

  - name: emails_good
    config: {{column_types: {{email: text}}}}
    columns:
      - name: email
        data_tests:
          - valid_email:
              name: valid_email__well_formed_addresses__pass
  - name: emails_bad
    config: {{column_types: {{email: text}}}}
    columns:
      - name: email
        data_tests:
          - valid_email:
              name: valid_email__malformed_addresses__fail
          - valid_email:
              name: valid_email__malformed_addresses_as_warning__warn
              config: {{severity: warn}}
          - valid_email:
              name: valid_email__malformed_addresses_under_threshold__pass
              config: {{warn_if: ">5", error_if: ">5"}}

  - name: events_recent
    config: {{column_types: {{event_at: timestamp}}}}
    data_tests:
      - recency:
          name: recency__newest_within_two_days_of_clock__pass
          arguments:
            field: event_at
            datepart: day
            interval: 2
            reference_timestamp: "cast('2026-01-10 12:00:00' as timestamp)"
      - recency:
          name: recency__old_data_against_wall_clock__fail
          arguments: {{field: event_at, datepart: day, interval: 2}}
    columns:
      - name: event_at
        data_tests:
          - recency:
              name: recency__on_column_with_expression_clock__pass
              arguments:
                datepart: hour
                interval: 24
                reference_timestamp: "cast('2026-01-10' as date) + interval '12 hours'"
  - name: events_stale
    config: {{column_types: {{event_at: timestamp}}}}
    data_tests:
      - recency:
          name: recency__newest_nine_days_before_clock__fail
          arguments:
            field: "event_at + interval '1 hour'"
            datepart: day
            interval: 2
            reference_timestamp: "cast('2026-01-10 12:00:00' as timestamp)"

  - name: rows_three
    data_tests:
      - equal_row_count:
          name: equal_row_count__same_count__pass
          arguments:
            compare_model: ref('rows_three_again')
      - equal_row_count:
          name: equal_row_count__three_against_five__fail
          arguments:
            compare_model: ref('rows_five')
      - equal_row_count:
          name: equal_row_count__two_apart_under_threshold__pass
          arguments:
            compare_model: ref('rows_five')
          config: {{error_if: ">2", warn_if: ">2"}}
  - name: rows_five
    data_tests:
      - equal_row_count:
          name: equal_row_count__five_filtered_to_three_by_where__pass
          arguments:
            compare_model: ref('rows_three')
          config: {{where: "row_id <= 3"}}

  - name: pairs_good
    data_tests:
      - unique_combination_of_columns:
          name: unique_combination_of_columns__distinct_pairs__pass
          arguments:
            combination_of_columns: [order_id, line_number]
  - name: pairs_bad
    data_tests:
      - unique_combination_of_columns:
          name: unique_combination_of_columns__repeated_pair__fail
          arguments:
            combination_of_columns: [order_id, line_number]

  - name: scd_good
    config: {{column_types: {SCD_TYPES}}}
    data_tests:
      - scd2_valid_intervals:
          name: scd2_valid_intervals__contiguous_history__pass
          arguments: {{key_column: customer_id, valid_from: valid_from, valid_to: valid_to}}
    columns:
      - name: customer_id
        data_tests:
          - scd2_valid_intervals:
              name: scd2_valid_intervals__on_key_column__pass
              arguments: {{valid_from: valid_from, valid_to: valid_to}}
  - name: scd_overlap
    config: {{column_types: {SCD_TYPES}}}
    data_tests:
      - scd2_valid_intervals:
          name: scd2_valid_intervals__overlapping_versions__fail
          arguments: {{key_column: customer_id, valid_from: valid_from, valid_to: valid_to}}
  - name: scd_two_current
    config: {{column_types: {SCD_TYPES}}}
    data_tests:
      - scd2_valid_intervals:
          name: scd2_valid_intervals__two_current_versions__fail
          arguments: {{key_column: customer_id, valid_from: valid_from, valid_to: valid_to}}
  - name: scd_no_current
    config: {{column_types: {SCD_TYPES}}}
    data_tests:
      - scd2_valid_intervals:
          name: scd2_valid_intervals__key_without_current_version__fail
          arguments: {{key_column: customer_id, valid_from: valid_from, valid_to: valid_to}}
      - scd2_valid_intervals:
          name: scd2_valid_intervals__closed_key_allowed__pass
          arguments:
            key_column: customer_id
            valid_from: valid_from
            valid_to: valid_to
            allow_keys_without_current_row: true
  - name: scd_inverted
    config: {{column_types: {SCD_TYPES}}}
    data_tests:
      - scd2_valid_intervals:
          name: scd2_valid_intervals__valid_to_before_valid_from__fail
          arguments: {{key_column: customer_id, valid_from: valid_from, valid_to: valid_to}}
  - name: scd_sentinel
    config: {{column_types: {SCD_TYPES}}}
    data_tests:
      - scd2_valid_intervals:
          name: scd2_valid_intervals__sentinel_current_version__pass
          arguments:
            key_column: customer_id
            valid_from: valid_from
            valid_to: valid_to
            current_valid_to: "cast('9999-12-31' as timestamp)"
      - scd2_valid_intervals:
          name: scd2_valid_intervals__sentinel_not_declared__fail
          arguments: {{key_column: customer_id, valid_from: valid_from, valid_to: valid_to}}

  - name: amounts_good
    config: {{column_types: {{gross_amount: numeric, net_amount: numeric}}}}
    data_tests:
      - expression_is_true:
          name: expression_is_true__net_within_gross__pass
          arguments: {{expression: "net_amount <= gross_amount"}}
    columns:
      - name: net_amount
        data_tests:
          - expression_is_true:
              name: expression_is_true__on_column__pass
              arguments: {{expression: ">= 0"}}
  - name: amounts_bad
    config: {{column_types: {{gross_amount: numeric, net_amount: numeric}}}}
    data_tests:
      - expression_is_true:
          name: expression_is_true__net_above_gross__fail
          arguments: {{expression: "net_amount <= gross_amount"}}
      - expression_is_true:
          name: expression_is_true__bad_row_filtered_by_where__pass
          arguments: {{expression: "net_amount <= gross_amount"}}
          config: {{where: "net_amount <= 8"}}
"""

# Failing rows some failures must count exactly (the rest only need their status).
EXPECTED_FAILURES = {
    "accepted_range__outside_bounds__fail": 2,
    "valid_email__malformed_addresses__fail": 4,
    "equal_row_count__three_against_five__fail": 2,
    "unique_combination_of_columns__repeated_pair__fail": 1,
    "scd2_valid_intervals__key_without_current_version__fail": 1,
}
