"""The #9 regression tests that live next to the code they guard, replayed by ``make test-hostile``.

``tests/hostile/conftest.py`` gives each listed test the ``hostile`` marker; ``python -m
tests.hostile.regressions`` prints the files to collect (the Makefile passes them to pytest).
``test_index.py`` checks every entry still names a test function, so a rename cannot silently drop
a regression from the suite.  Repros with no regression test elsewhere are in ``test_repros.py``.
"""

from __future__ import annotations

HOSTILE_REGRESSIONS: dict[str, tuple[str, ...]] = {
    "9.1 chunked bodies": (
        "tests/web/test_hardening.py::test_a_chunked_body_is_read_and_checked_like_any_other",
        "tests/idchange/test_idchange_hardening.py::test_withdraw_reads_a_chunked_body",
    ),
    "9.2 oauth code replay": (
        "tests/qr/test_flow.py::test_duplicate_oauth_callback_is_idempotent",
        "tests/qr/test_flow.py::test_replayed_state_with_another_code_is_refused",
    ),
    "9.5 redis down, SQL-only features": (
        "tests/web/test_hardening.py::test_sql_only_endpoints_work_with_redis_refusing",
    ),
    "9.7 full ID numbers": (
        "tests/idchange/test_idchange_hardening.py::"
        "test_id_numbers_in_comments_and_reasons_are_masked_for_the_platform_and_the_audit_log",
        "tests/idchange/test_idchange_hardening.py::test_ordinary_numbers_in_comments_are_not_masked",
        "tests/test_logs.py::test_urllib3_debug_lines_of_the_wechat_code_exchange_hide_secret_and_code",
        "tests/test_logs.py::test_a_failed_exchange_traceback_hides_the_query_too",
        "tests/test_logs.py::test_third_party_lines_with_id_numbers_are_masked",
    ),
    "9.8 decoders without a CPU budget": (
        "tests/documents/test_hostile.py::test_decode_budget_refuses_bombs",
        "tests/documents/test_hostile.py::test_checks_refuse_bombs_before_decoding",
        "tests/documents/test_hostile.py::test_http_bomb_and_ascii_orientation",
        "tests/idchange/test_idchange_hardening.py::test_a_decompression_bomb_proof_is_refused_quickly",
        "tests/liveness/test_views.py::test_gif_is_refused_by_format",
        "tests/liveness/test_enrol.py::test_only_the_documented_formats_are_decoded",
        "tests/liveness/test_enrol.py::test_animated_png_is_refused",
    ),
    "9.9 unhandled 500s": (
        "tests/web/test_hardening.py::test_hostile_json_is_a_400_in_the_error_shape",
        "tests/web/test_hardening.py::test_query_integers_are_ascii_and_bounded",
        "tests/documents/test_hostile.py::test_exif_orientation_as_ascii_is_ignored_not_a_500",
        "tests/documents/test_hostile.py::test_filing_id_and_download_headers",
    ),
    "9.10 security headers": (
        "tests/web/test_hardening.py::test_security_headers_on_pages_api_and_errors",
        "tests/web/test_hardening.py::test_phone_pages_cannot_be_framed",
    ),
    "9.11 leaks and misleading answers": (
        "tests/idchange/test_idchange_hardening.py::test_another_associations_request_and_a_nonexistent_one_answer_the_same_404",
        "tests/idchange/test_idchange_hardening.py::test_every_time_is_utc_with_z",
        "tests/web/test_hardening.py::test_thousands_of_form_parts_answer_413_naming_the_real_limit",
        "tests/documents/test_hostile.py::test_filing_analyses_outside_the_write_transaction",
        "tests/liveness/test_views.py::test_photo_is_analysed_before_the_write_transaction",
    ),
    "9.12 mock_wechat": ("tests/mock_wechat/test_mock_wechat_redirects.py",),
}


def node_ids() -> list[str]:
    return [node for nodes in HOSTILE_REGRESSIONS.values() for node in nodes]


def files() -> list[str]:
    return sorted({node.split("::", 1)[0] for node in node_ids()})


if __name__ == "__main__":
    print(" ".join(files()))
