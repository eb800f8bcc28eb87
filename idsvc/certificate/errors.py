"""The certificate feature's error catalogue: portrait filing, member status, the certificate gate."""

from __future__ import annotations

from idsvc.core.errors import define

OWNER = "certificate"

# -- portrait filing ---------------------------------------------------------------------------
PORTRAIT_REJECTED = define(
    "portrait_rejected",
    422,
    "头像未通过检查：{failed}",
    "The portrait did not pass: {failed_en}",
    owner=OWNER,
)
# The same text as the liveness decision of the same name: one code, one meaning.
FACE_MISMATCH = define(
    "face_mismatch", 422, "人脸与身份证照片不一致", "Your face does not match the ID record.", owner=OWNER
)
PORTRAIT_NOT_FOUND = define("portrait_not_found", 404, "该会员尚未备案头像", "No portrait is on file", owner=OWNER)
# -- member status -----------------------------------------------------------------------------
MEMBER_NO_TAKEN = define(
    "member_no_taken", 409, "该会员编号已被其他会员使用", "Another member already has this member number", owner=OWNER
)

# -- the certificate gate (409: the member may not print the certificate now) -------------------
CERT_CUSTODY = define(
    "certificate_member_in_custody",
    409,
    "会员处于协会代管状态，无法打印电子证书",
    "The member is under association custody and cannot print the certificate",
    owner=OWNER,
)
CERT_RESIGNED = define(
    "certificate_member_resigned",
    409,
    "会员已退会，无法打印电子证书",
    "The member has resigned and cannot print the certificate",
    owner=OWNER,
)
CERT_INSPECTION_FAILED = define(
    "certificate_inspection_failed",
    409,
    "会员未通过年检，无法打印电子证书",
    "The member failed the annual inspection and cannot print the certificate",
    owner=OWNER,
)
CERT_NOT_PRACTISING = define(
    "certificate_not_practising",
    409,
    "非执业会员无法打印执业会员电子证书",
    "Only practising members can print the certificate",
    owner=OWNER,
)
CERT_ID_CHANGE_OPEN = define(
    "certificate_id_change_open",
    409,
    "身份证号码变更正在审批中，审批完成后方可打印电子证书",
    "An ID-number change is under review; the certificate can be printed once it is decided",
    owner=OWNER,
)
CERT_MEMBER_NO_MISSING = define(
    "certificate_member_no_missing",
    409,
    "会员编号尚未登记，无法生成电子证书",
    "The member number is not on file; the certificate cannot be issued",
    owner=OWNER,
)
CERT_PORTRAIT_MISSING = define(
    "certificate_portrait_missing", 409, "请先备案头像", "File a portrait first", owner=OWNER
)
CERT_SEAL_MISSING = define("certificate_seal_missing", 409, "请先备案印章", "File a seal first", owner=OWNER)
CERT_SIGNATURE_MISSING = define(
    "certificate_signature_missing", 409, "请先备案签名", "File a signature first", owner=OWNER
)
