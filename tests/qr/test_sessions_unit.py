"""The pure state machine: every transition and refusal, with an explicit clock."""

from __future__ import annotations

import dataclasses

import pytest

from idsvc.core.errors import IdsvcError
from idsvc.qr import sessions as sm

T0 = 1_800_000_000.0


def fresh(ttl: int = 300) -> sm.Session:
    return sm.new_session("sid", "m-1", "login", {"ip": "1.2.3.4", "user_agent": "UA"}, T0, ttl)


def test_new_session_has_three_distinct_choices_including_the_code() -> None:
    for _ in range(50):
        s = fresh()
        assert len(set(s.choices)) == 3 and s.match_code in s.choices
        assert s.status == "pending" and s.version == 1 and s.expires_at == T0 + 300


def test_scan_confirm_path() -> None:
    s = sm.scan(fresh(), "o1", T0 + 1)
    assert s.status == "scanned" and s.version == 2 and s.openid == "o1"
    assert sm.scan(s, "o1", T0 + 2) is None  # same phone again: no change
    s = sm.confirm(s, "o1", s.match_code, T0 + 3)
    assert s.status == "confirmed" and s.version == 3 and s.confirmed_at == T0 + 3


def test_second_openid_conflicts() -> None:
    s = sm.scan(fresh(), "o1", T0 + 1)
    with pytest.raises(IdsvcError) as e:
        sm.scan(s, "o2", T0 + 2)
    assert e.value.status == 409 and e.value.code == "already_scanned" and e.value.message == "二维码已被其他微信扫描"


def test_wrong_code_fails_and_is_final() -> None:
    s = sm.scan(fresh(), "o1", T0 + 1)
    wrong = next(c for c in s.choices if c != s.match_code)
    s = sm.confirm(s, "o1", wrong, T0 + 2)
    assert s.status == "failed" and s.failure == "match_code_mismatch" and s.finished_at == T0 + 2
    with pytest.raises(IdsvcError):
        sm.confirm(s, "o1", s.match_code, T0 + 3)


def test_confirm_needs_scan_and_same_openid() -> None:
    with pytest.raises(IdsvcError) as e:
        sm.confirm(fresh(), "o1", "10", T0)
    assert e.value.status == 403
    s = sm.scan(fresh(), "o1", T0)
    with pytest.raises(IdsvcError):
        sm.confirm(s, "o2", s.match_code, T0)


def test_expiry_is_lazy_and_blocks_everything() -> None:
    s = fresh(ttl=10)
    assert sm.expire(s, T0 + 9.9) is None
    assert not sm.is_expired(s, T0 + 9.9) and sm.is_expired(s, T0 + 10)
    with pytest.raises(IdsvcError) as e:
        sm.scan(s, "o1", T0 + 11)
    assert e.value.status == 410
    expired = sm.expire(s, T0 + 10)
    assert expired is not None and expired.status == "expired"
    assert sm.expire(expired, T0 + 20) is None  # final states never expire again


def test_scanned_session_keeps_the_original_deadline() -> None:
    s = sm.scan(fresh(ttl=10), "o1", T0 + 8)
    assert s.expires_at == T0 + 10
    with pytest.raises(IdsvcError):
        sm.confirm(s, "o1", s.match_code, T0 + 10)


@pytest.mark.parametrize("status", ["verified", "failed", "cancelled", "expired"])
def test_cancel_only_from_non_final(status: str) -> None:
    s = dataclasses.replace(fresh(), status=sm.SessionState(status))
    with pytest.raises(IdsvcError):
        sm.cancel(s, T0)
    assert sm.cancel(fresh(), T0).status == "cancelled"


def test_public_view_hides_secrets() -> None:
    view = sm.public_view(sm.scan(fresh(), "o_secret", T0))
    assert "match_code" not in view and "openid" not in view and "choices" not in view
    assert view["expires_at"].endswith("Z")


def test_consume_only_once_only_when_verified() -> None:
    s = sm.confirm(sm.scan(fresh(), "o1", T0), "o1", "x", T0)  # wrong code: failed
    with pytest.raises(IdsvcError) as e:
        sm.consume(s, None, T0)
    assert e.value.code == "not_verified"
    s = sm.scan(fresh(), "o1", T0)
    s = sm.confirm(s, "o1", s.match_code, T0, "blink")
    s = sm.finish_verifying(sm.begin_verifying(s, "o1", T0 + 1), True, None, T0 + 2)
    assert s.status == "verified" and s.verified_at == T0 + 2
    with pytest.raises(IdsvcError) as e:
        sm.consume(s, "transfer", T0 + 3)
    assert e.value.code == "purpose_mismatch"
    used = sm.consume(s, "login", T0 + 3)
    assert used.consumed_at == T0 + 3 and used.status == "verified"
    with pytest.raises(IdsvcError) as e:
        sm.consume(used, None, T0 + 4)
    assert e.value.code == "already_consumed"


def test_retryable_failure_returns_to_confirmed_with_a_new_challenge() -> None:
    s = sm.scan(fresh(), "o1", T0)
    s = sm.confirm(s, "o1", s.match_code, T0, "blink")
    for attempt in (1, 2):
        s = sm.finish_verifying(sm.begin_verifying(s, "o1", T0), False, "too_dark", T0, "nod")
        assert s.status == "confirmed" and s.challenge == "nod" and s.attempts == attempt
    s = sm.finish_verifying(sm.begin_verifying(s, "o1", T0), False, "too_dark", T0, "nod")
    assert s.status == "failed" and s.failure == "too_dark"
    s = sm.scan(fresh(), "o1", T0)
    s = sm.confirm(s, "o1", s.match_code, T0, "blink")
    s = sm.finish_verifying(sm.begin_verifying(s, "o1", T0), False, "static_image", T0, "nod")
    assert s.status == "failed"  # a photo gets no second try


def test_only_one_video_at_a_time() -> None:
    s = sm.scan(fresh(), "o1", T0)
    s = sm.begin_verifying(sm.confirm(s, "o1", s.match_code, T0, "blink"), "o1", T0)
    with pytest.raises(IdsvcError) as e:
        sm.begin_verifying(s, "o1", T0)
    assert e.value.code == "verification_in_progress"


def test_states_and_transition_table() -> None:
    assert [s.value for s in sm.SessionState] == [
        "pending",
        "scanned",
        "confirmed",
        "verifying",
        "verified",
        "failed",
        "expired",
        "cancelled",
    ]
    # Every state is reachable from pending, and nothing leaves a final state except consume (verified → verified).
    targets = {t.target for t in sm.TRANSITIONS.values()}
    assert targets | {sm.PENDING} == set(sm.SessionState)
    for step, t in sm.TRANSITIONS.items():
        assert not (t.sources & sm.FINAL) or step == sm.Step.CONSUME
    with pytest.raises(TypeError):
        sm.TRANSITIONS[sm.Step.SCAN] = sm.Transition(frozenset(), sm.FAILED)  # type: ignore[index]


def test_transition_from_wrong_state_is_invalid_state_409() -> None:
    s = sm.scan(fresh(), "o1", T0)
    assert s is not None
    with pytest.raises(IdsvcError) as e:
        sm.begin_verifying(s, "o1", T0)
    assert e.value.code == "invalid_state" and e.value.status == 409 and e.value.details == {"status": "scanned"}


def test_record_round_trips_through_json_with_an_opaque_challenge() -> None:
    challenge = {"kind": "sequence", "actions": ["nod", "blink"], "prompt_at": [0, 1.5], "issued_at": T0}
    s = sm.scan(fresh(), "o1", T0)
    assert s is not None
    s = sm.confirm(s, "o1", s.match_code, T0, challenge)
    data = s.to_json()
    assert data["consumed_at"] is None and "consumed_at" in fresh().to_json()
    assert data["status"] == "confirmed" and data["failure"] is None and data["challenge"] == challenge
    assert sm.Session.from_json(data) == s
    again = sm.finish_verifying(sm.begin_verifying(s, "o1", T0), False, "too_dark", T0, {"kind": "other"})
    assert again.challenge == {"kind": "other"}
    failed = sm.confirm(sm.scan(fresh(), "o1", T0) or fresh(), "o1", "x", T0)
    assert failed.to_json()["failure"] == {"code": "match_code_mismatch"}


def test_reads_records_written_before_the_typed_record() -> None:
    old = {
        "session_id": "sid",
        "member_id": "m-1",
        "purpose": "login",
        "status": "scanned",
        "version": 2,
        "created_at": T0,
        "updated_at": T0,
        "expires_at": T0 + 300,
        "desktop": {"ip": "1.2.3.4", "user_agent": "UA"},
        "match_code": "42",
        "choices": ["17", "42", "88"],
        "openid": "o1",
        "scanned_at": T0,
        "confirmed_at": None,
        "finished_at": None,
        "failure": None,
        "challenge": None,
        "poll_token_hash": "ab",
    }
    s = sm.Session.from_json(old)
    assert s.status is sm.SCANNED and s.attempts == 0 and s.consumed_at is None and s.choices == ("17", "42", "88")


def test_verifying_does_not_expire_under_an_analysis_that_began_in_time() -> None:
    s = sm.scan(fresh(ttl=10), "o1", T0)
    assert s is not None
    s = sm.begin_verifying(sm.confirm(s, "o1", s.match_code, T0, "blink"), "o1", T0 + 9.5)
    assert not sm.is_expired(s, T0 + 11) and sm.expire(s, T0 + 11) is None
    assert sm.finish_verifying(s, True, None, T0 + 11).status == "verified"
    # A retryable failure after the deadline cannot go back for another try: it fails.
    assert sm.finish_verifying(s, False, "too_dark", T0 + 11).status == "failed"
    # A worker that died mid-analysis does not pin the session open forever.
    assert sm.is_expired(s, T0 + 9.5 + sm.VERIFY_GRACE)
