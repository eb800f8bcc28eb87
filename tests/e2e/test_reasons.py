"""One reason table for the phone page and the desktop widget: complete, plain Chinese, and the served file in sync."""

from __future__ import annotations

import re
from typing import Any

import pytest

from idsvc.liveness.decision import REASONS as LIVENESS_REASONS
from idsvc.qr import sessions as sm
from idsvc.web import reasons
from tests.conftest import DESKTOP_UA


def test_the_served_file_is_generated_from_the_python_table() -> None:
    assert reasons.JS_PATH.read_text(encoding="utf-8") == reasons.render_js(), "run: python -m idsvc.web.reasons"


def test_every_failure_a_member_or_desktop_can_meet_has_plain_chinese() -> None:
    codes = set(LIVENESS_REASONS) | set(sm.RETRYABLE) | {
        "match_code_mismatch", "session_expired", "session_cancelled", "session_finished", "already_scanned",
        "not_your_session", "not_wechat", "invalid_token", "invalid_state", "csrf_failed", "unsupported_video_type",
        "verification_in_progress", "payload_too_large", "rate_limited", "store_unavailable", "internal_error",
        "wechat_auth_failed", "wechat_unavailable", "light_challenge_failed", "verification_locked",
        "id_record_not_found", "too_many_waiters", "recorded_before_challenge",
    }  # fmt: skip
    missing = sorted(c for c in codes if c not in reasons.REASONS)
    assert not missing, missing
    for code, r in reasons.REASONS.items():
        texts = [r["title"], r["advice"], r["desk"], *r["steps"]]
        for text in texts:
            assert not re.search(r"[A-Za-z]{3,}", text) or "Chrome" in text, (code, text)
        assert r["kind"] in ("retry", "end", "ok")
        assert r["kind"] != "end" or r["steps"], f"{code}: an end page needs next steps"
        assert r["kind"] != "retry" or r["advice"] or r["steps"], f"{code}: a retry needs advice"
    for state in sm.STATES:
        assert reasons.STATES[state]
    for purpose in sm.PURPOSES:
        assert reasons.purpose_label(purpose) != "实名认证", purpose


def test_page_settings_and_the_members_terms(app: Any) -> None:
    from idsvc.core.settings import ConfigError, Settings
    from idsvc.web.assets import browser_name, local_time

    s = Settings.from_env(
        {"IDSVC_PORTAL_NAME": "某协会", "IDSVC_HELP_TEXT": "请致电 010-1", "IDSVC_TIMEZONE": "Asia/Urumqi"}
    )
    assert (s.portal_name, s.help_text, s.timezone) == ("某协会", "请致电 010-1", "Asia/Urumqi")
    assert Settings.from_env({}).timezone == "Asia/Shanghai"
    with pytest.raises(ConfigError, match="IDSVC_TIMEZONE"):
        Settings.from_env({"IDSVC_TIMEZONE": "Mars/Olympus"})
    assert browser_name(DESKTOP_UA) == "Chrome 浏览器（Windows 电脑）"
    assert browser_name("") == "未知浏览器"
    with app.app_context():
        # 2024-03-05 01:02 UTC is 09:02 in China.
        assert local_time(1709600520.0).endswith("09:02")
        assert local_time(1709600520.0, with_date=False) == "09:02"
