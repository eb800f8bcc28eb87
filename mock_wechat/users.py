"""Who the "phone" is, and the profile WeChat would return for them.

The mock has no accounts: the openid *is* the user.  A test picks it per request with the header
``X-Mock-Openid``; a browser (Selenium, or a person clicking through ``make run``) carries the
cookie ``mock_openid`` (set it with ``/_mock/login``); otherwise everyone is the default user.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

OPENID_HEADER = "X-Mock-Openid"
OPENID_COOKIE = "mock_openid"
DEFAULT_OPENID = "o_mock_default_user"
# Real openids are 28 URL-safe characters; the mock accepts any short URL-safe name so tests can
# use readable ones ("o_alice").
_OPENID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def is_valid_openid(openid: str) -> bool:
    return bool(_OPENID_RE.fullmatch(openid))


def select_openid(header: str | None, cookies: Mapping[str, str], default: str) -> str:
    """The ``X-Mock-Openid`` header's value beats the cookie beats the default.  Returned
    unvalidated; callers check `is_valid_openid`."""
    return header or cookies.get(OPENID_COOKIE) or default


def unionid_for(openid: str) -> str:
    # Stable per user, distinct from the openid, shaped like a real unionid (28 chars, "o" prefix).
    return "o" + hashlib.sha256(f"unionid:{openid}".encode()).hexdigest()[:27]


def profile_for(openid: str, lang: str = "zh_CN") -> dict[str, object]:
    """The ``/sns/userinfo`` body for this openid.

    Since WeChat's 2021 user-information changes, web-authorisation userinfo no longer reveals
    gender or region: ``sex`` is 0 and ``province``/``city``/``country`` are empty strings, though
    the keys are still present.  ``lang`` is accepted and only changes those (now empty) fields.
    """
    del lang  # kept in the signature: the real API takes it; with regions withheld it changes nothing
    digest = hashlib.sha256(openid.encode()).hexdigest()
    return {
        "openid": openid,
        "nickname": f"测试用户{digest[:4]}",
        "sex": 0,
        "province": "",
        "city": "",
        "country": "",
        "headimgurl": f"https://thirdwx.qlogo.cn/mmopen/vi_32/mock{digest[:24]}/132",
        "privilege": [],
        "unionid": unionid_for(openid),
    }
