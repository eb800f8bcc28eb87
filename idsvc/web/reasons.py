"""Every reason a member or a desktop can meet, in plain Chinese: one table for the phone page and the widget.

``REASONS[code]`` is ``{"title", "advice", "steps", "desk", "kind"}``:

- ``title``: what happened, for a 55-year-old member (no codes, no English);
- ``advice``: the next action when the member can simply record again;
- ``steps``: numbered next steps on an end page;
- ``desk``: the line the desktop widget shows;
- ``kind``: ``retry`` (record again), ``end`` (this session is over), ``ok``.

The table is served to browsers as ``/static/idsvc-reasons.js`` (``window.IdsvcReasons``), a file
generated from this module (``python -m idsvc.web.reasons``; a test keeps the file in sync), so the
phone page and the desktop widget never disagree and never show a raw code.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

RESTART = "在电脑上点击“刷新二维码”，用微信重新扫描"
Reason = dict[str, Any]


def _r(title: str, advice: str = "", steps: tuple[str, ...] = (), desk: str = "", kind: str = "end") -> Reason:
    return {"title": title, "advice": advice, "steps": list(steps), "desk": desk or title, "kind": kind}


REASONS: dict[str, Reason] = {
    "verified": _r(
        "验证成功", "", ("请回到电脑，电脑上会自动继续", "现在可以关闭本页面"), desk="实名认证已通过", kind="ok"
    ),
    # -- the video: the member can record again ---------------------------------------------
    "too_dark": _r("光线太暗", "请到明亮的地方，面对光源再录一次", kind="retry", desk="光线太暗，请在手机上重新录制"),
    "no_face": _r(
        "没有看到您的脸", "请把整张脸放进框内，正对手机", kind="retry", desk="未看到人脸，请在手机上重新录制"
    ),
    "face_too_small": _r(
        "脸离手机太远", "请把手机拿近一些，让脸填满框", kind="retry", desk="人脸太远，请在手机上重新录制"
    ),
    "multiple_faces": _r(
        "画面里不止一个人", "请确保只有您本人在画面中", kind="retry", desk="画面中有多人，请在手机上重新录制"
    ),
    "too_blurry": _r("画面模糊", "请拿稳手机，擦一擦镜头", kind="retry", desk="画面模糊，请在手机上重新录制"),
    "challenge_not_performed": _r(
        "没有看到要求的动作",
        "请看清新的动作提示，录制时做得明显一些",
        kind="retry",
        desk="未看到指定动作，请在手机上重试",
    ),
    "light_challenge_failed": _r(
        "屏幕闪光核验未通过", "请让脸靠近屏幕，调亮屏幕，避开强光", kind="retry", desk="闪光核验未通过，请在手机上重试"
    ),
    "not_bound_wechat": _r(
        "请使用本人绑定的微信扫码",
        "",
        (
            "本次提交需要由您本人的微信确认",
            "请用您首次人脸核验时使用的微信扫描电脑上的二维码",
            "如已更换微信，请联系所在协会解除绑定",
        ),
        desk="请会员使用本人绑定的微信扫码",
    ),
    "wechat_not_bound": _r(
        "尚未绑定微信",
        "",
        ("请先完成一次实名登录的人脸核验，以绑定本人微信",),
        desk="该会员尚未绑定微信，请先完成实名登录",
    ),
    "recorded_before_challenge": _r(
        "视频不是刚刚现场录制的",
        "",
        ("请直接在本页面点击“开始录制”，不要上传相册里的视频", RESTART),
        desk="视频不是现场录制，请在手机上重新扫码",
    ),
    "too_many_waiters": _r(
        "此二维码已在其他页面打开",
        "",
        ("请关闭多余的登录页面，只保留一个", "在电脑上刷新二维码后重新扫描"),
        desk="请关闭多余的页面后刷新二维码",
    ),
    "image_too_complex": _r("图片无法处理", "", ("请把图片另存为普通照片格式后再上传",)),
    "too_short": _r("视频太短", "请录满 3 秒，中途不要离开本页面", kind="retry", desk="视频太短，请在手机上重新录制"),
    "too_long": _r("视频太长", "请只录 3 秒左右", kind="retry", desk="视频太长，请在手机上重新录制"),
    "video_invalid": _r("视频无法读取", "请重新录制一次", kind="retry", desk="视频无法读取，请在手机上重新录制"),
    "analysis_error": _r("核验时出了点问题", "请重新录制一次", kind="retry", desk="核验出错，请在手机上重新录制"),
    "unsupported_video_type": _r("这个文件不是视频", "请用相机录制 3 秒视频后上传", kind="retry"),
    "payload_too_large": _r("视频文件太大", "请只录 3 秒左右", kind="retry"),
    "invalid_input": _r("视频没有传上来", "请重新录制一次", kind="retry"),
    # -- the client side (never from the server) --------------------------------------------
    "network_error": _r(
        "网络不稳定，视频没有传上去",
        "录好的视频还在，请点“重新上传”（不占用次数）",
        kind="retry",
        desk="手机网络不稳定",
    ),
    "camera_denied": _r(
        "没有摄像头权限",
        "",
        (
            "点击右上角“···”，选择“设置”或“权限”，允许使用摄像头",
            "回到本页面，点击“重新打开摄像头”",
            "或者点击下面的“用系统相机录制”",
        ),
        kind="retry",
    ),
    "camera_missing": _r(
        "没有找到可用的摄像头",
        "",
        ("点击下面的“用系统相机录制”，用前置摄像头录 3 秒", "录制时按屏幕上的动作提示去做"),
        kind="retry",
    ),
    # -- the session is over -----------------------------------------------------------------
    "face_mismatch": _r(
        "人脸与登记的身份证照片不一致",
        "",
        ("请确认是会员本人在操作", "如果是本人，请联系所在协会核对身份证照片", RESTART),
        desk="人脸与身份证照片不一致",
    ),
    "static_image": _r(
        "没有检测到真人动作",
        "",
        ("请本人面对手机摄像头，不要使用照片、视频或屏幕", RESTART),
        desk="没有检测到真人动作",
    ),
    "identity_changed": _r(
        "录制中画面里的人发生了变化",
        "",
        ("请本人独自完成录制", RESTART),
        desk="录制中人脸发生了变化",
    ),
    "id_record_not_found": _r(
        "系统里没有与您身份证号对应的人脸记录",
        "",
        (
            "这通常是因为身份证号已变更（例如旧的 15 位号码）",
            "请在会员系统中提交“身份证号变更”申请",
            "申请通过后再来验证",
        ),
        desk="没有该会员的身份证人脸记录，请提交身份证号变更申请",
    ),
    "match_code_mismatch": _r(
        "选择的数字与电脑上的不一致",
        "",
        ("为了安全，本次验证已作废", RESTART, "请选择电脑屏幕上显示的那个数字"),
        desk="手机上选择的数字不一致，本次验证已作废",
    ),
    "verification_failed": _r("验证未通过", "", ("已用完 3 次机会", RESTART), desk="验证未通过"),
    "attempts_exhausted": _r("3 次机会都没有通过", "", ("请换一个光线好的地方", RESTART), desk="3 次都未通过"),
    "verification_locked": _r(
        "失败次数过多，暂时不能验证",
        "",
        ("请稍后再试", "如需帮助，请联系所在协会"),
        desk="失败次数过多，暂时不能验证",
    ),
    "session_expired": _r("二维码已过期", "", ("每个二维码只能使用 5 分钟", RESTART), desk="二维码已失效，点击刷新"),
    "session_cancelled": _r("本次验证已取消", "", (RESTART,), desk="已取消"),
    "session_finished": _r("本次验证已经结束", "", ("如需再次验证，" + RESTART,), desk="本次验证已结束"),
    "session_not_found": _r("二维码已过期", "", (RESTART,), desk="二维码已失效"),
    "already_scanned": _r(
        "这个二维码已被其他微信扫描",
        "",
        ("如果不是您的家人或同事扫的，请不要继续", RESTART),
        desk="二维码已被其他微信扫描",
    ),
    "not_your_session": _r("这个验证不属于当前微信", "", ("请用本人的微信", RESTART)),
    "not_wechat": _r(
        "请使用微信扫一扫",
        "",
        ("打开手机微信", "点击右上角“+”，选择“扫一扫”", "扫描电脑屏幕上的二维码"),
    ),
    "invalid_token": _r("二维码无效", "", ("请确认扫描的是电脑屏幕上的二维码", RESTART)),
    "invalid_state": _r("页面已失效", "", (RESTART,)),
    "csrf_failed": _r("页面已失效", "", ("请关闭本页面", RESTART)),
    "wechat_auth_failed": _r("微信授权没有成功", "", (RESTART,)),
    "wechat_unavailable": _r("暂时连不上微信", "", ("请稍等一分钟", RESTART)),
    "verification_in_progress": _r("上一段视频正在核验", "请稍候，不要重复提交", kind="retry"),
    "rate_limited": _r("操作太频繁", "", ("请稍等一分钟", RESTART)),
    "store_unavailable": _r("系统繁忙", "", ("请稍等几分钟", RESTART)),
    "internal_error": _r("系统出了点问题", "", ("请稍后再试", RESTART)),
    "not_found": _r("页面不存在", "", (RESTART,)),
    "forbidden": _r("无权访问", "", (RESTART,)),
    "bad_request": _r("请求无效", "", (RESTART,)),
}

# The desktop's states while the session runs, and the phone's outcome.
STATES: dict[str, str] = {
    "pending": "请使用微信扫一扫",
    "scanned": "已扫码，请在手机上点击下面的数字",
    "confirmed": "请在手机上按提示录制 3 秒视频",
    "verifying": "正在核验，请稍候…",
    "verified": "实名认证已通过",
    "failed": "验证未通过",
    "expired": "二维码已失效，点击刷新",
    "cancelled": "本次验证已取消",
}

# What the member is doing, for "正在办理：…" (the session's ``purpose``).
PURPOSES: dict[str, str] = {
    "login": "登录会员系统",
    "reverify": "再次确认本人身份",
    "register": "注册会员",
    "transfer": "会员转所",
    "change": "变更会员信息",
    "seal_signature": "备案签名和印章",
    "resign": "办理退会",
}

FALLBACK = _r("无法继续", "", (RESTART,), desk="验证未完成")


def reason(code: str | None) -> Reason:
    return REASONS.get(code or "", FALLBACK)


def purpose_label(purpose: str | None) -> str:
    return PURPOSES.get(purpose or "", "实名认证")


def table() -> dict[str, Any]:
    return {"reasons": REASONS, "states": STATES, "purposes": PURPOSES, "fallback": FALLBACK}


def render_js() -> str:
    body = json.dumps(table(), ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return (
        "/* Generated by `python -m idsvc.web.reasons` from idsvc/web/reasons.py: do not edit. */\n"
        f"window.IdsvcReasons = {body};\n"
    )


JS_PATH = Path(__file__).parent / "static" / "idsvc-reasons.js"

if __name__ == "__main__":  # pragma: no cover - a developer's command
    JS_PATH.write_text(render_js(), encoding="utf-8")
    sys.stdout.write(f"wrote {JS_PATH}\n")
