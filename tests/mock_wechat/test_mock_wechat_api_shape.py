"""Raw HTTP shape of /sns/ answers (what wechatpy hides): status, content type, errmsg format."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import requests


def sns(base: str, path: str, **params: str) -> requests.Response:
    return requests.get(f"{base}/sns/{path}", params=params, timeout=10)


@pytest.mark.parametrize(
    ("path", "params", "errcode", "errmsg"),
    [
        (
            "oauth2/access_token",
            {"secret": "test_secret", "code": "x", "grant_type": "authorization_code"},
            41002,
            "appid missing",
        ),
        (
            "oauth2/access_token",
            {"appid": "wx_test_appid", "secret": "test_secret", "code": "x", "grant_type": "client_credential"},
            40002,
            "invalid grant_type",
        ),
        (
            "oauth2/access_token",
            {"appid": "wx_test_appid", "secret": "test_secret", "code": "nope", "grant_type": "authorization_code"},
            40029,
            "invalid code",
        ),
        (
            "oauth2/refresh_token",
            {"appid": "wx_test_appid", "grant_type": "authorization_code", "refresh_token": "r"},
            40002,
            "invalid grant_type",
        ),
        ("userinfo", {"openid": "o_a"}, 41001, "access_token missing"),
        ("userinfo", {"access_token": "t"}, 41009, "missing openid"),
        ("auth", {"openid": "o_a"}, 41001, "access_token missing"),
        (
            "auth",
            {"access_token": "t", "openid": "o_a"},
            40001,
            "invalid credential, access_token is invalid or not latest",
        ),
    ],
)
def test_errors_are_http_200_json_with_rid_suffix(
    wechat_server: str, path: str, params: dict[str, str], errcode: int, errmsg: str
) -> None:
    resp = sns(wechat_server, path, **params)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/json")
    body = resp.json()
    assert set(body) == {"errcode", "errmsg"} and body["errcode"] == errcode
    assert re.fullmatch(re.escape(errmsg) + r", rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}", body["errmsg"])


def test_success_body_is_exactly_wechats_fields(wechat_server: str, creds: Any, get_code: Callable[..., str]) -> None:
    code = get_code(headers={"X-Mock-Openid": "o_shape"})
    body = sns(
        wechat_server,
        "oauth2/access_token",
        appid=creds.appid,
        secret=creds.secret,
        code=code,
        grant_type="authorization_code",
    ).json()
    assert set(body) == {"access_token", "expires_in", "refresh_token", "openid", "scope"}
    ok = sns(wechat_server, "auth", access_token=body["access_token"], openid="o_shape")
    assert ok.json() == {"errcode": 0, "errmsg": "ok"}


def test_userinfo_is_utf8_not_escaped(wechat_server: str, creds: Any, get_code: Callable[..., str]) -> None:
    code = get_code(scope="snsapi_userinfo", headers={"X-Mock-Openid": "o_utf8"})
    token = sns(
        wechat_server,
        "oauth2/access_token",
        appid=creds.appid,
        secret=creds.secret,
        code=code,
        grant_type="authorization_code",
    ).json()
    resp = sns(wechat_server, "userinfo", access_token=token["access_token"], openid="o_utf8", lang="zh_CN")
    assert "测试用户".encode() in resp.content and b"\\u" not in resp.content
    assert resp.json()["privilege"] == []
