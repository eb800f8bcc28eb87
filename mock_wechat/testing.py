"""Helpers for tests that need the mock as a real HTTP server, and wechatpy's clients pointed at it."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from collections.abc import Callable
from typing import Any

import requests
import requests.adapters
from flask import Flask

from mock_wechat.serving import make_mock_server

# wechatpy's client sets no timeout; a hung mock must fail a test, not stall the suite.
CLIENT_TIMEOUT_S = 10.0


class FakeClock:
    """A clock for ``create_app(clock=...)`` whose seconds move only when a test says so."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


def serve_in_thread(app: Flask, host: str = "127.0.0.1", port: int = 0) -> tuple[str, Callable[[], None]]:
    """Serve ``app`` with werkzeug's threaded server in a daemon thread.

    Returns ``(base_url, shutdown)``; ``base_url`` has no trailing slash (``http://127.0.0.1:54321``).
    Port 0 picks a free port.  ``shutdown()`` stops the server and joins the thread; it is idempotent.
    """
    server = make_mock_server(app, host, port)
    # A short poll interval makes shutdown() return in ~50 ms instead of werkzeug's 0.5 s.
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name=f"serve:{app.name}:{server.port}",
        daemon=True,
    )
    thread.start()
    done = threading.Event()

    def shutdown() -> None:
        if done.is_set():
            return
        done.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)

    return f"http://{host}:{server.port}", shutdown


def load_wechatpy_oauth() -> tuple[type, type[Exception]]:
    """``(WeChatOAuth, WeChatOAuthException)`` from the installed wechatpy.

    ``import wechatpy`` runs its package ``__init__``, which imports the message-crypto module and
    raises unless ``cryptography`` or ``pycryptodome`` is installed (the ``wechatpy[cryptography]``
    extra).  OAuth needs neither, so when that import fails we load wechatpy's own, unmodified
    ``oauth`` and ``exceptions`` modules without running the package ``__init__``.
    """
    try:
        from wechatpy.exceptions import WeChatOAuthException
        from wechatpy.oauth import WeChatOAuth

        return WeChatOAuth, WeChatOAuthException
    except Exception:
        spec = importlib.util.find_spec("wechatpy")
        if spec is None or not spec.submodule_search_locations:
            raise
    package = types.ModuleType("wechatpy")
    package.__path__ = list(spec.submodule_search_locations)
    package.__file__ = spec.origin
    sys.modules["wechatpy"] = package
    exceptions = importlib.import_module("wechatpy.exceptions")
    oauth = importlib.import_module("wechatpy.oauth")
    package.WeChatOAuth = oauth.WeChatOAuth  # type: ignore[attr-defined]
    package.WeChatOAuthException = exceptions.WeChatOAuthException  # type: ignore[attr-defined]
    return oauth.WeChatOAuth, exceptions.WeChatOAuthException


def wechat_oauth_client(base_url: str, appid: str, secret: str, redirect_uri: str, **kwargs: Any) -> Any:
    """A real ``wechatpy.WeChatOAuth`` whose base URLs point at the mock at ``base_url``."""
    oauth_cls, _ = load_wechatpy_oauth()
    client = oauth_cls(appid, secret, redirect_uri, **kwargs)
    base = base_url.rstrip("/")
    client.API_BASE_URL = f"{base}/"
    client.OAUTH_BASE_URL = f"{base}/connect/"
    request = client._http.request

    def request_with_timeout(*args: Any, **kw: Any) -> Any:
        kw.setdefault("timeout", CLIENT_TIMEOUT_S)
        return request(*args, **kw)

    client._http.request = request_with_timeout
    return client


WECHAT_API_ORIGIN = "https://api.weixin.qq.com/"


class _RedirectToMock(requests.adapters.HTTPAdapter):
    """Sends requests for ``https://api.weixin.qq.com/…`` to the mock instead (a test's "DNS"),
    with a timeout when the caller set none.  The client's own URL building stays untouched."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self._base = base_url.rstrip("/") + "/"

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        if request.url and request.url.startswith(WECHAT_API_ORIGIN):
            request.url = self._base + request.url[len(WECHAT_API_ORIGIN) :]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = CLIENT_TIMEOUT_S
        return super().send(request, *args, **kwargs)


def wechat_mp_client(base_url: str, appid: str, secret: str, **kwargs: Any) -> Any:
    """A real ``wechatpy.WeChatClient`` (official-account API) whose traffic goes to the mock.

    wechatpy fetches its token from the hard-coded ``https://api.weixin.qq.com/cgi-bin/token``, so
    rather than patch its code we mount a transport adapter that sends that origin to the mock.
    """
    from wechatpy import WeChatClient

    client = WeChatClient(appid, secret, **kwargs)
    client._http.mount(WECHAT_API_ORIGIN, _RedirectToMock(base_url))
    return client
