"""The pure state table: every (action, state, role) triple, checked against the procedure as written."""

from __future__ import annotations

import itertools

import pytest

from idsvc.core.errors import IdsvcError
from idsvc.idchange.workflow import (
    FINAL,
    MAX_COMMENT,
    NATIONAL_DECISIONS,
    OPEN,
    REVIEW_DECISIONS,
    Action,
    State,
    decision,
    plan,
)

ROLES = ("platform", "local", "national")

# The procedure: local forwards or rejects what was submitted; national approves or rejects what was
# forwarded; the platform may withdraw anything not final.  Nothing else moves.
ALLOWED = {
    (Action.FORWARD, State.SUBMITTED, "local"): State.FORWARDED,
    (Action.LOCAL_REJECT, State.SUBMITTED, "local"): State.REJECTED,
    (Action.APPROVE, State.FORWARDED, "national"): State.APPROVED,
    (Action.NATIONAL_REJECT, State.FORWARDED, "national"): State.REJECTED,
    (Action.WITHDRAW, State.SUBMITTED, "platform"): State.WITHDRAWN,
    (Action.WITHDRAW, State.FORWARDED, "platform"): State.WITHDRAWN,
}
ROLE_OF = {
    Action.FORWARD: "local",
    Action.LOCAL_REJECT: "local",
    Action.APPROVE: "national",
    Action.NATIONAL_REJECT: "national",
    Action.WITHDRAW: "platform",
}


@pytest.mark.parametrize(("action", "state", "role"), list(itertools.product(Action, State, ROLES)))
def test_every_triple(action: Action, state: State, role: str) -> None:
    expected = ALLOWED.get((action, state, role))
    if expected is not None:
        target, comment = plan(action, state, role, "理由充分")
        assert target is expected and comment == "理由充分"
        return
    with pytest.raises(IdsvcError) as info:
        plan(action, state, role, "理由充分")
    if role != ROLE_OF[action]:
        assert (info.value.status, info.value.code) == (403, "wrong_role")
    else:
        assert (info.value.status, info.value.code) == (409, "invalid_transition")
        assert info.value.details == {"state": state.value, "action": action.value}


def test_final_states_are_dead_ends() -> None:
    for action, state in itertools.product(Action, FINAL):
        with pytest.raises(IdsvcError) as info:
            plan(action, state, ROLE_OF[action], "x")
        assert info.value.status == 409
    assert set(State) == OPEN | FINAL and not OPEN & FINAL


@pytest.mark.parametrize("action", [Action.LOCAL_REJECT, Action.NATIONAL_REJECT])
@pytest.mark.parametrize("comment", [None, "", "   \n"])
def test_rejection_needs_a_comment(action: Action, comment: str | None) -> None:
    state = State.SUBMITTED if action is Action.LOCAL_REJECT else State.FORWARDED
    with pytest.raises(IdsvcError) as info:
        plan(action, state, ROLE_OF[action], comment)
    assert (info.value.status, info.value.code) == (400, "comment_required")


def test_approval_and_forwarding_take_an_optional_comment() -> None:
    assert plan(Action.FORWARD, State.SUBMITTED, "local", None) == (State.FORWARDED, "")
    assert plan(Action.APPROVE, State.FORWARDED, "national", "  同意  ") == (State.APPROVED, "同意")


def test_overlong_comment_is_refused() -> None:
    with pytest.raises(IdsvcError) as info:
        plan(Action.FORWARD, State.SUBMITTED, "local", "字" * (MAX_COMMENT + 1))
    assert info.value.code == "invalid_input"


def test_wrong_state_is_reported_before_a_missing_comment() -> None:
    with pytest.raises(IdsvcError) as info:
        plan(Action.LOCAL_REJECT, State.FORWARDED, "local", "")
    assert info.value.code == "invalid_transition"


@pytest.mark.parametrize(
    ("word", "choices", "action"),
    [
        ("forward", REVIEW_DECISIONS, Action.FORWARD),
        ("reject", REVIEW_DECISIONS, Action.LOCAL_REJECT),
        ("approve", NATIONAL_DECISIONS, Action.APPROVE),
        ("reject", NATIONAL_DECISIONS, Action.NATIONAL_REJECT),
    ],
)
def test_decision_words(word: str, choices: dict[str, Action], action: Action) -> None:
    assert decision(word, choices) is action


@pytest.mark.parametrize(
    ("word", "choices"),
    [
        ("approve", REVIEW_DECISIONS),
        ("forward", NATIONAL_DECISIONS),
        (None, REVIEW_DECISIONS),
        (1, NATIONAL_DECISIONS),
        ("Approve", NATIONAL_DECISIONS),
    ],
)
def test_unknown_decision_words(word: object, choices: dict[str, Action]) -> None:
    with pytest.raises(IdsvcError) as info:
        decision(word, choices)
    assert info.value.code == "invalid_input" and info.value.details["field"] == "decision"
