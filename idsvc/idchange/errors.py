"""The error codes of the ID-number change workflow, each with one status and one text.

Shared codes it also answers (``invalid_input``, ``invalid_json``, ``wrong_role``,
``member_not_found``, ``payload_too_large``, ``invalid_id_number``) are declared in the core.
"""

from __future__ import annotations

from idsvc.core.errors import define

_OWNER = "idchange"

ID_CHANGE_NOT_FOUND = define(
    "id_change_not_found", 404, "身份证号变更申请不存在", "ID-number change request not found", owner=_OWNER
)
ID_NUMBER_UNCHANGED = define(
    "id_number_unchanged",
    400,
    "新身份证号与现有号码相同",
    "The new ID number is the same as the current one",
    owner=_OWNER,
)
ID_NUMBER_TAKEN = define(
    "id_number_taken", 409, "该身份证号已被其他会员使用", "Another member already holds this ID number", owner=_OWNER
)
ID_CHANGE_OPEN = define(
    "id_change_open",
    409,
    "该会员已有进行中的身份证号变更申请",
    "This member already has an open ID-number change request",
    owner=_OWNER,
)
MEMBER_ID_NUMBER_CHANGED = define(
    "member_id_number_changed",
    409,
    "会员的身份证号在申请后已被修改，请驳回后重新申请",
    "The member's ID number changed after this request was filed; reject it and file a new one",
    owner=_OWNER,
)
CONCURRENT_UPDATE = define(
    "concurrent_update",
    409,
    "申请已被他人处理，请刷新后重试",
    "The request changed meanwhile; reload and retry",
    owner=_OWNER,
)
INVALID_TRANSITION = define(
    "invalid_transition",
    409,
    "申请当前状态为「{state}」，不能执行此操作（{action}）",
    "The request is {state}; {action} is not allowed from that state",
    owner=_OWNER,
)
COMMENT_REQUIRED = define("comment_required", 400, "驳回时必须填写意见", "A rejection needs a comment", owner=_OWNER)
ASSOCIATION_OUT_OF_SCOPE = define(
    "association_out_of_scope",
    403,
    "只能查看本协会会员的申请",
    "A local reviewer sees only its own association's requests",
    owner=_OWNER,
)
MULTIPART_REQUIRED = define(
    "multipart_required",
    415,
    "请以 multipart/form-data 上传证明文件",
    "Send multipart/form-data with the proof file",
    owner=_OWNER,
)
UNSUPPORTED_PROOF_TYPE = define(
    "unsupported_proof_type",
    415,
    "证明文件须为 PDF、JPEG 或 PNG 格式",
    "The proof must be a PDF, JPEG or PNG file",
    owner=_OWNER,
)
CORRUPT_PROOF = define(
    "corrupt_proof",
    400,
    "证明文件已损坏或不完整，无法打开",
    "The proof file is damaged or incomplete: {why}",
    owner=_OWNER,
)
EMPTY_PROOF = define("empty_proof", 400, "证明文件为空", "The proof file is empty", owner=_OWNER)
# One text for both ways a stored proof can be unusable; ``details.reason`` says which.
PROOF_MISSING = define(
    "proof_missing",
    500,
    "证明文件缺失或已损坏，请联系管理员",
    "The proof document is missing from storage or does not match its digest",
    owner=_OWNER,
)
