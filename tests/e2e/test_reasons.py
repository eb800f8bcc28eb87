"""One reason table for the phone page and the desktop widget: complete, plain Chinese, and the served file in sync."""

from __future__ import annotations

import re

from idsvc.liveness.decision import REASONS as LIVENESS_REASONS
from idsvc.qr import sessions as sm
from idsvc.web import reasons


def test_the_served_file_is_generated_from_the_python_table() -> None:
    assert reasons.JS_PATH.read_text(encoding="utf-8") == reasons.render_js(), "run: python -m idsvc.web.reasons"


def test_every_failure_a_member_or_desktop_can_meet_has_plain_chinese() -> None:
    codes = set(LIVENESS_REASONS) | set(sm.RETRYABLE) | {
        "match_code_mismatch", "session_expired", "session_cancelled", "session_finished", "already_scanned",
        "not_your_session", "not_wechat", "invalid_token", "invalid_state", "csrf_failed", "unsupported_video_type",
        "verification_in_progress", "payload_too_large", "rate_limited", "store_unavailable", "internal_error",
        "wechat_auth_failed", "wechat_unavailable", "light_challenge_failed", "verification_locked",
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
