"""The ID-number change state machine, as data: states, actions and the one table that joins them.

::

    submitted ──forward (local)──▶ forwarded ──approve (national)──▶ approved
        │                              │
        └──reject (local)──▶ rejected ◀┘──reject (national)
    submitted / forwarded ──withdraw (platform)──▶ withdrawn

Everything here is pure: :func:`plan` decides whether a move is allowed and what it leads to;
the SQL layer (``service.py``) then performs it with a conditional UPDATE so that, of two
concurrent decisions, exactly one finds the row still in the expected state.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from idsvc.core.errors import WRONG_ROLE, IdsvcError, invalid_input
from idsvc.idchange.errors import COMMENT_REQUIRED, INVALID_TRANSITION

# Comments are shown to reviewers and the member's portal; long enough for a paragraph, no essays.
MAX_COMMENT = 1000


class State(StrEnum):
    SUBMITTED = "submitted"
    FORWARDED = "forwarded"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


OPEN = frozenset({State.SUBMITTED, State.FORWARDED})
FINAL = frozenset({State.APPROVED, State.REJECTED, State.WITHDRAWN})


class Action(StrEnum):
    FORWARD = "forward"
    LOCAL_REJECT = "local_reject"
    APPROVE = "approve"
    NATIONAL_REJECT = "national_reject"
    WITHDRAW = "withdraw"


@dataclass(frozen=True)
class Transition:
    role: str
    sources: frozenset[State]
    target: State
    comment_required: bool = False


TRANSITIONS: dict[Action, Transition] = {
    Action.FORWARD: Transition("local", frozenset({State.SUBMITTED}), State.FORWARDED),
    Action.LOCAL_REJECT: Transition("local", frozenset({State.SUBMITTED}), State.REJECTED, comment_required=True),
    Action.APPROVE: Transition("national", frozenset({State.FORWARDED}), State.APPROVED),
    Action.NATIONAL_REJECT: Transition("national", frozenset({State.FORWARDED}), State.REJECTED, comment_required=True),
    Action.WITHDRAW: Transition("platform", OPEN, State.WITHDRAWN),
}

# The decision words of the HTTP bodies, per endpoint, mapped onto actions.
REVIEW_DECISIONS = {"forward": Action.FORWARD, "reject": Action.LOCAL_REJECT}
NATIONAL_DECISIONS = {"approve": Action.APPROVE, "reject": Action.NATIONAL_REJECT}


def invalid_transition(action: Action, state: State) -> IdsvcError:
    return INVALID_TRANSITION({"state": state.value, "action": action.value}, state=state.value, action=action.value)


def clean_comment(comment: str | None, required: bool) -> str:
    text = (comment or "").strip()
    if required and not text:
        raise COMMENT_REQUIRED({"field": "comment"})
    if len(text) > MAX_COMMENT:
        raise invalid_input("comment", f"is longer than {MAX_COMMENT} characters", f"超过 {MAX_COMMENT} 个字符")
    return text


def plan(action: Action, state: State, role: str, comment: str | None = None) -> tuple[State, str]:
    """The target state and cleaned comment of ``action`` from ``state`` by ``role``, or the error to raise.

    Checks run in the order a client can fix them: role (403), state (409), comment (400).
    """
    rule = TRANSITIONS[action]
    if role != rule.role:
        raise WRONG_ROLE({"action": action.value, "role": rule.role}, roles=rule.role)
    if state not in rule.sources:
        raise invalid_transition(action, state)
    return rule.target, clean_comment(comment, rule.comment_required)


def decision(value: object, choices: dict[str, Action]) -> Action:
    """Map a body's ``decision`` word onto an action, or a 400 naming the allowed words."""
    if not isinstance(value, str) or value not in choices:
        allowed = " | ".join(choices)
        raise invalid_input("decision", f"must be one of {allowed}", f"必须是 {allowed} 之一")
    return choices[value]
