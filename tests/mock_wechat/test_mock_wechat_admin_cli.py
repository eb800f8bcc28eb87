"""/_mock/ controls over HTTP, and `python -m mock_wechat` as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from mock_wechat import create_app

REPO_ROOT = Path(__file__).resolve().parents[2]


def exchange(base: str, appid: str, secret: str, code: str) -> dict[str, Any]:
    params = {"appid": appid, "secret": secret, "code": code, "grant_type": "authorization_code"}
    return requests.get(f"{base}/sns/oauth2/access_token", params=params, timeout=10).json()


def test_clock_advance_over_http_expires_codes(wechat_server: str, creds: Any, get_code: Callable[..., str]) -> None:
    early, late = get_code(), get_code()
    assert "access_token" in exchange(wechat_server, creds.appid, creds.secret, early)
    resp = requests.post(f"{wechat_server}/_mock/clock/advance", json={"seconds": 300}, timeout=10)
    assert resp.status_code == 200
    assert exchange(wechat_server, creds.appid, creds.secret, late)["errcode"] == 40029


def test_minted_code_and_reset(wechat_server: str, creds: Any) -> None:
    minted = requests.post(
        f"{wechat_server}/_mock/codes", json={"openid": "o_minted", "scope": "snsapi_userinfo"}, timeout=10
    ).json()
    other = requests.post(f"{wechat_server}/_mock/codes", json={"openid": "o_other"}, timeout=10).json()
    body = exchange(wechat_server, creds.appid, creds.secret, minted["code"])
    assert body["openid"] == "o_minted" and body["scope"] == "snsapi_userinfo"
    state = requests.get(f"{wechat_server}/_mock/state", timeout=10).json()
    assert state["codes"] == 2 and state["codes_used"] == 1 and state["access_tokens"] == 1
    assert "secret" not in state
    assert requests.post(f"{wechat_server}/_mock/reset", timeout=10).json() == {"ok": True}
    assert exchange(wechat_server, creds.appid, creds.secret, other["code"])["errcode"] == 40029


def test_fault_injection_answers_queued_errors_then_recovers(
    wechat_server: str, creds: Any, get_code: Callable[..., str]
) -> None:
    fault = {"endpoint": "access_token", "errcode": -1, "count": 2}
    assert requests.post(f"{wechat_server}/_mock/faults", json=fault, timeout=10).status_code == 200
    code = get_code()
    assert exchange(wechat_server, creds.appid, creds.secret, code)["errcode"] == -1
    assert exchange(wechat_server, creds.appid, creds.secret, code)["errcode"] == -1
    # A queued fault answers before the code is looked at, so the code is still good afterwards.
    assert "access_token" in exchange(wechat_server, creds.appid, creds.secret, code)


def test_appid_and_secret_default_to_idsvc_env_then_dev_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDSVC_WECHAT_APPID", "wx_from_env")
    monkeypatch.setenv("IDSVC_WECHAT_SECRET", "secret_from_env")
    config = create_app().extensions["mock_wechat"].config
    assert (config.appid, config.secret) == ("wx_from_env", "secret_from_env")
    assert create_app("wx_arg", "s_arg").extensions["mock_wechat"].config.appid == "wx_arg"
    monkeypatch.delenv("IDSVC_WECHAT_APPID")
    monkeypatch.delenv("IDSVC_WECHAT_SECRET")
    config = create_app().extensions["mock_wechat"].config
    assert (config.appid, config.secret) == ("wx_dev_appid", "dev_secret")


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/_mock/clock/advance", {"seconds": "soon"}),
        ("/_mock/clock/advance", {"seconds": -5}),
        ("/_mock/codes", {"openid": "has space"}),
        ("/_mock/codes", {"scope": "snsapi_login"}),
        ("/_mock/faults", {"endpoint": "nope", "errcode": -1}),
        ("/_mock/faults", {"endpoint": "auth", "errcode": 0}),
        ("/_mock/faults", {"endpoint": "auth", "errcode": -1, "count": 1.5}),
    ],
)
def test_bad_control_requests_are_400(wechat_server: str, path: str, payload: dict[str, Any]) -> None:
    resp = requests.post(f"{wechat_server}{path}", json=payload, timeout=10)
    assert resp.status_code == 400 and "error" in resp.json()


@pytest.mark.timeout(60)
def test_cli_serves_prints_base_url_and_never_logs_secrets() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDSVC_WECHAT_")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mock_wechat",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--appid",
            "wx_cli",
            "--secret",
            "s3cr3t-cli",
            "--public-url",
            "https://a.example",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = proc.stdout.readline().strip()  # type: ignore[union-attr]
        assert base.startswith("http://127.0.0.1:") and not base.endswith(":0"), base
        params = {
            "appid": "wx_cli",
            "redirect_uri": "https://a.example/cb",
            "response_type": "code",
            "scope": "snsapi_base",
            "state": "s",
        }
        resp = requests.get(f"{base}/connect/oauth2/authorize", params=params, allow_redirects=False, timeout=10)
        code = resp.headers["Location"].split("code=")[1].split("&")[0]
        body = exchange(base, "wx_cli", "s3cr3t-cli", code)
        assert body["openid"] == "o_mock_default_user"
        assert exchange(base, "wx_cli", "wrong", code)["errcode"] == 40125
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert "GET /sns/oauth2/access_token" in err  # the access log is there...
    for secret in ("s3cr3t-cli", code, body["access_token"]):
        assert secret not in out + err  # ...with secrets, codes and tokens masked
