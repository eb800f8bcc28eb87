"""The application factory: settings and services built once, blueprints, error handlers."""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

from flask import Flask, Response, g, request
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import ClientDisconnected, HTTPException

from idsvc.core import logs
from idsvc.core.errors import (
    BAD_REQUEST,
    FORBIDDEN,
    INTERNAL_ERROR,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    RATE_LIMITED,
    UNAUTHORIZED,
    UNSUPPORTED_MEDIA_TYPE,
    IdsvcError,
    define,
    payload_too_large,
    store_unavailable,
)
from idsvc.core.services import Services, build_services
from idsvc.core.settings import Settings
from idsvc.features import FEATURES
from idsvc.qr.phone import error_page as phone_error_page
from idsvc.web import assets, cors, demo, headers, health, openapi
from idsvc.web.proxy import TrustedProxies, parse_networks
from idsvc.webkit.context import SERVICES_KEY

log = logging.getLogger("idsvc")

# werkzeug's own HTTP errors (unknown route, wrong method, ...) in the catalogue's words.
_HTTP_ERRORS = {
    400: BAD_REQUEST,
    401: UNAUTHORIZED,
    403: FORBIDDEN,
    404: NOT_FOUND,
    405: METHOD_NOT_ALLOWED,
    415: UNSUPPORTED_MEDIA_TYPE,
    429: RATE_LIMITED,
}
REQUEST_TIMEOUT = define(
    "request_timeout", 408, "网络太慢，请求未能完整送达，请重试", "The request body did not arrive in time; retry"
)
HTTP_ERROR = define("http_error", 400, "请求无法处理", "The request could not be handled")


MAX_FORM_PARTS = 50
# werkzeug's own cap on a non-file field held in memory (500 KB by default).
MAX_FORM_FIELD_BYTES = 500 * 1024

TOO_MANY_PARTS = define(
    "too_many_form_parts",
    413,
    "表单字段过多或过大（最多 {parts} 个字段，每个字段不超过 {field_kb} KB）",
    "Too many or too large form fields (at most {parts} fields of {field_kb} KB each)",
)


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> Flask:
    settings = settings or Settings.from_env()
    logs.configure(settings.log_level)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=str(settings.secret_key),
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        # A form here has at most a file and a few fields; thousands of parts are an attack.
        MAX_FORM_PARTS=MAX_FORM_PARTS,
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
    headers.install(app)
    cors.install(app, cors.parse_origins(settings.cors_origins))
    app.wsgi_app = TrustedProxies(app.wsgi_app, parse_networks(settings.trusted_proxies))  # type: ignore[method-assign]
    return app


def _error_response(err: IdsvcError) -> Response:
    # "replace": an error can quote client input; text that is not valid Unicode (a lone
    # surrogate) must not turn the error itself into a 500.
    body = json.dumps(err.to_dict(), ensure_ascii=False).encode("utf-8", "replace")
    response = Response(body, status=err.status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    retry_after = err.details.get("retry_after")
    if isinstance(retry_after, int) and retry_after > 0:
        response.headers["Retry-After"] = str(retry_after)
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
        if isinstance(err, ClientDisconnected):
            # The body ended early: the client went away or stalled past the read timeout.
            return _idsvc_error(REQUEST_TIMEOUT())
        if status == 413:
            limit = app.config["MAX_CONTENT_LENGTH"]
            if request.content_length is not None and request.content_length <= limit:
                # Under the size limit: werkzeug refused the number or size of form parts.
                return _idsvc_error(
                    TOO_MANY_PARTS(
                        {"max_parts": MAX_FORM_PARTS}, parts=MAX_FORM_PARTS, field_kb=MAX_FORM_FIELD_BYTES // 1024
                    )
                )
            return _idsvc_error(payload_too_large(limit))
        spec = _HTTP_ERRORS.get(status)
        if spec is not None:
            return _idsvc_error(spec())
        other = HTTP_ERROR({"http_status": status})
        other.status = status
        return _idsvc_error(other)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeout)
    def _database_unavailable(err: Exception) -> Any:
        # Locked (SQLite busy past its timeout), gone, or the pool exhausted: a 503, never a 500.
        log.warning("database unavailable", extra={"fields": {"error": type(err).__name__}})
        return _idsvc_error(store_unavailable())

    @app.errorhandler(TimeoutError)
    def _client_too_slow(err: TimeoutError) -> Any:
        # The client stopped sending its body (see web/serve.py BodyReadTimeout).
        return _idsvc_error(REQUEST_TIMEOUT())

    @app.errorhandler(Exception)
    def _unexpected(err: Exception) -> Any:
        log.exception("unhandled error", extra={"fields": {"request_id": g.get("request_id")}})
        return _idsvc_error(INTERNAL_ERROR({"request_id": g.get("request_id")}))


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
