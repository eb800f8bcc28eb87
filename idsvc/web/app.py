"""The application factory: settings and services built once, blueprints, error handlers."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from idsvc.core import logs
from idsvc.core.errors import IdsvcError, payload_too_large
from idsvc.core.services import Services, build_services
from idsvc.core.settings import Settings
from idsvc.features import FEATURES
from idsvc.qr.phone import error_page as phone_error_page
from idsvc.web import assets, demo, health, openapi
from idsvc.webkit.context import SERVICES_KEY

log = logging.getLogger("idsvc")

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    415: "unsupported_media_type",
    429: "rate_limited",
}
_HTTP_ZH = {
    400: "请求无效",
    401: "未认证",
    403: "无权访问",
    404: "资源不存在",
    405: "不支持的请求方法",
    415: "不支持的内容类型",
    429: "请求过于频繁，请稍后再试",
}


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> Flask:
    settings = settings or Settings.from_env()
    logs.configure(settings.log_level)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=str(settings.secret_key),
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        # Pages under /m/ keep their state in this signed cookie.  Lax, not Strict: the phone
        # comes back from WeChat's OAuth page by a top-level redirect and must carry it.
        SESSION_COOKIE_NAME="idsvc_m",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
        SESSION_COOKIE_PATH="/m",
        PERMANENT_SESSION_LIFETIME=max(settings.session_ttl * 2, 600),
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions[SERVICES_KEY] = services or build_services(settings)
    app.extensions["idsvc_settings"] = settings

    app.register_blueprint(health.bp)
    assets.install(app)  # favicon, template helpers (portal name, help line, reasons, China time)
    app.register_blueprint(openapi.bp)
    for feature in FEATURES:
        feature.register(app)
    if not settings.production:
        app.register_blueprint(demo.bp)

    _install_error_handlers(app)
    _install_request_log(app)
    return app


def _error_response(err: IdsvcError) -> Response:
    response = jsonify(err.to_dict())
    response.status_code = err.status
    response.headers["Cache-Control"] = "no-store"
    return response


def _install_error_handlers(app: Flask) -> None:
    @app.errorhandler(IdsvcError)
    def _idsvc_error(err: IdsvcError) -> Any:
        if request.path.startswith("/m/"):
            return phone_error_page(err)
        return _error_response(err)

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException) -> Any:
        status = err.code or 500
        if status == 413:
            return _idsvc_error(payload_too_large(app.config["MAX_CONTENT_LENGTH"]))
        code = _HTTP_CODES.get(status, (err.name or "error").lower().replace(" ", "_"))
        return _idsvc_error(
            IdsvcError(code, _HTTP_ZH.get(status, err.name or "错误"), err.name or "Error", status=status)
        )

    @app.errorhandler(Exception)
    def _unexpected(err: Exception) -> Any:
        log.exception("unhandled error", extra={"fields": {"request_id": g.get("request_id")}})
        return _idsvc_error(
            IdsvcError(
                "internal_error",
                "服务内部错误，请稍后重试",
                "Internal error; please retry later",
                status=500,
                details={"request_id": g.get("request_id")},
            )
        )


def _install_request_log(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        g.request_id = request.headers.get("X-Request-Id", "")[:64] or uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers["X-Request-Id"] = g.get("request_id", "")
        # The route pattern, never the path: paths under /m/ carry scan tokens.
        route = request.url_rule.rule if request.url_rule else "(unmatched)"
        if route not in ("/healthz", "/readyz"):
            log.info(
                "request",
                extra={
                    "fields": {
                        "method": request.method,
                        "route": route,
                        "status": response.status_code,
                        "ms": round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 1),
                        "request_id": g.get("request_id"),
                    }
                },
            )
        return response
