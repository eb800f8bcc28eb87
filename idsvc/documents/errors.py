"""The documents feature's error codes: one status and one text each (see ``idsvc.core.errors``).

Texts with ``{fields}`` are filled by the caller; ``details`` carries the structured context.
"""

from __future__ import annotations

from idsvc.core.errors import define

OWNER = "documents"

EMPTY_FILE = define(
    "empty_file", 400, "上传的文件是空的（0 字节）", "The uploaded file is empty (0 bytes)", owner=OWNER
)
IMAGE_UNREADABLE = define(
    "image_unreadable",
    400,
    "图片文件已损坏或不完整，请重新拍摄或导出",
    "The image file is corrupt or incomplete",
    owner=OWNER,
)
# {what}/{what_en}: "PDF 文件" / "PDF"; {advice}/{advice_en}: what to do instead.
UNSUPPORTED_FORMAT = define(
    "unsupported_format",
    415,
    "不接受{what}，{advice}",
    "{what_en} is not accepted; {advice_en}",
    owner=OWNER,
)
IMAGE_TOO_LARGE = define(
    "image_too_large",
    422,
    "图片像素过多（{width}×{height}），请缩小到 4000 万像素以内",
    "Image too large ({width}×{height}); keep it under 40 megapixels",
    owner=OWNER,
)
IMAGE_TOO_SMALL = define(
    "image_too_small",
    422,
    "图片太小（{width}×{height}），无法检查",
    "Image too small ({width}×{height}) to check",
    owner=OWNER,
)

DOCUMENT_REJECTED = define(
    "document_rejected",
    422,
    "上传的{kind}未通过检查：{reasons}",
    "The {kind_en} did not pass: {reasons_en}",
    owner=OWNER,
)
DOCUMENT_KIND_NOT_FOUND = define(
    "document_kind_not_found", 404, "文件类型不存在", "document kind not found", owner=OWNER
)
FILING_NOT_FOUND = define("filing_not_found", 404, "存档记录不存在", "filing not found", owner=OWNER)
