"""What every page template may use (portal name, help line, reasons, China time) and the favicon."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, redirect, url_for

from idsvc.web import reasons
from idsvc.webkit.context import services

bp = Blueprint("assets", __name__)


@bp.get("/favicon.ico")
def favicon() -> Any:
    return redirect(url_for("static", filename="favicon.png"), code=301)


def browser_name(user_agent: str | None) -> str:
    """ "Chrome 浏览器（Windows 电脑）": the desktop in the member's terms."""
    ua = user_agent or ""
    name = next(
        (
            n
            for token, n in (
                ("MicroMessenger", "微信"),
                ("Edg/", "Edge"),
                ("Firefox/", "Firefox"),
                ("QQBrowser", "QQ"),
                ("360", "360"),
                ("Chrome/", "Chrome"),
                ("Safari/", "Safari"),
            )
            if token in ua
        ),
        "",
    )
    system = next(
        (
            o
            for k, o in (
                ("Windows", "Windows 电脑"),
                ("Mac OS X", "苹果电脑"),
                ("iPhone", "苹果手机"),
                ("Android", "安卓手机"),
                ("Linux", "Linux 电脑"),
            )
            if k in ua
        ),
        "",
    )
    if not name:
        return system or "未知浏览器"
    label = f"{name} 浏览器"
    return f"{label}（{system}）" if system else label


def local_time(epoch: float | None, with_date: bool = True) -> str:
    """The time in the configured zone (China time by default), e.g. "今天 14:03" or "3月5日 14:03"."""
    if epoch is None:
        return ""
    tz = ZoneInfo(services().settings.timezone)
    t = datetime.fromtimestamp(epoch, UTC).astimezone(tz)
    today = datetime.now(tz).date()
    clock = t.strftime("%H:%M")
    if not with_date or t.date() == today:
        return f"今天 {clock}" if with_date else clock
    return f"{t.month}月{t.day}日 {clock}"


def zone_label() -> str:
    zone = services().settings.timezone
    return "北京时间" if zone in ("Asia/Shanghai", "Asia/Chongqing", "PRC") else zone


def _context() -> dict[str, Any]:
    settings = services().settings
    return {
        "portal_name": settings.portal_name,
        "help_text": settings.help_text,
        "reason": reasons.reason,
        "purpose_label": reasons.purpose_label,
        "zone_label": zone_label,
        "now": time.time,
    }


def install(app: Flask) -> None:
    """The favicon route, template helpers and filters for every page."""
    app.register_blueprint(bp)
    app.context_processor(_context)
    app.add_template_filter(browser_name, "browser_name")
    app.add_template_filter(local_time, "local_time")
