"""The procedure's submissions that end with "确认提交 → 再次人脸识别验证 → 提交成功", with their labels.

A calling service may send any well-formed action; for one not listed here it must give
``action_label`` (what the member's phone shows: "您正在确认提交：{label}").
"""

from __future__ import annotations

import re

LABELS: dict[str, str] = {
    "transfer.submit": "转会转所申请",
    "register.submit": "入会申请",
    "qualification.change": "资格变更申请",
    "seal_signature.submit": "签名和印章备案",
    "resign.submit": "退会申请",
    "member.change": "会员信息变更",
    "idchange.submit": "身份证号变更申请",
}

ACTION_RE = re.compile(r"[a-z][a-z0-9_]{0,31}(\.[a-z][a-z0-9_]{0,31}){0,3}")
DIGEST_RE = re.compile(r"[0-9a-f]{64}")
MAX_LABEL = 40


def is_action(value: str) -> bool:
    return len(value) <= 64 and ACTION_RE.fullmatch(value) is not None


def is_digest(value: str) -> bool:
    return DIGEST_RE.fullmatch(value) is not None


def label(action: str) -> str | None:
    return LABELS.get(action)
