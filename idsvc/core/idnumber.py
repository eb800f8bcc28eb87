"""Mainland resident ID numbers (GB 11643-1999): normalise, validate, convert 15 → 18.

An 18-character number is 6 digits of region, 8 of birth date (YYYYMMDD), 3 of sequence and
an ISO 7064 MOD 11-2 check character (``X`` stands for 10).  The legacy 15-digit form has a
two-digit year and no check character; :func:`to_18` converts it as the standard prescribes.

:func:`mask` hides a number (first 6 and last 4 characters kept); :func:`mask_in_text` finds and
masks every number that has the GB 11643 structure anywhere in free text (comments, log lines).
"""

from __future__ import annotations

import datetime as dt
import re

from idsvc.core.errors import IdsvcError, define

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"

# Province-level prefixes of GB/T 2260 (first two digits of the region code).
PROVINCES = {
    "11": "北京",
    "12": "天津",
    "13": "河北",
    "14": "山西",
    "15": "内蒙古",
    "21": "辽宁",
    "22": "吉林",
    "23": "黑龙江",
    "31": "上海",
    "32": "江苏",
    "33": "浙江",
    "34": "安徽",
    "35": "福建",
    "36": "江西",
    "37": "山东",
    "41": "河南",
    "42": "湖北",
    "43": "湖南",
    "44": "广东",
    "45": "广西",
    "46": "海南",
    "50": "重庆",
    "51": "四川",
    "52": "贵州",
    "53": "云南",
    "54": "西藏",
    "61": "陕西",
    "62": "甘肃",
    "63": "青海",
    "64": "宁夏",
    "65": "新疆",
    "71": "台湾",
    "81": "香港",
    "82": "澳门",
}


INVALID_ID_NUMBER = define("invalid_id_number", 400, "身份证号无效：{problem}", "Invalid ID number: {problem_en}")


class InvalidIdNumber(IdsvcError):
    """An ID number broke a named rule (``details.rule``); the catalogued text names the problem."""

    def __init__(self, rule: str, problem: str, problem_en: str) -> None:
        spec = INVALID_ID_NUMBER
        super().__init__(
            spec.code,
            spec.message.format(problem=problem),
            spec.message_en.format(problem_en=problem_en),
            status=spec.status,
            details={"rule": rule},
        )
        self.rule = rule


def normalise(raw: str) -> str:
    """Strip all white space and upper-case a trailing ``x``."""
    return re.sub(r"\s+", "", raw or "").upper()


def check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("need exactly 17 digits")
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def _birth_date(yyyymmdd: str, today: dt.date) -> None:
    try:
        born = dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        raise InvalidIdNumber(
            "birth_date", "身份证号中的出生日期不存在", "The birth date in the ID number is not a real date"
        ) from None
    if born > today:
        raise InvalidIdNumber(
            "birth_date", "身份证号中的出生日期在未来", "The birth date in the ID number is in the future"
        )
    if born.year < 1900:
        raise InvalidIdNumber(
            "birth_date", "身份证号中的出生年份不合理", "The birth year in the ID number is implausible"
        )


def validate(number: str, *, today: dt.date | None = None) -> str:
    """Return ``number`` (already normalised) if valid, else raise :class:`InvalidIdNumber`."""
    today = today or dt.date.today()
    if len(number) == 18:
        if not (number[:17].isdigit() and (number[17].isdigit() or number[17] == "X")):
            raise InvalidIdNumber(
                "format",
                "18 位身份证号应为 17 位数字加 1 位数字或 X",
                "An 18-character ID number is 17 digits then a digit or X",
            )
    elif len(number) == 15:
        if not number.isdigit():
            raise InvalidIdNumber("format", "15 位身份证号应全部为数字", "A 15-digit ID number must be all digits")
    else:
        raise InvalidIdNumber(
            "length", "身份证号应为 18 位（或旧版 15 位）", "An ID number has 18 characters (or 15 for the old format)"
        )
    if number[:2] not in PROVINCES:
        raise InvalidIdNumber(
            "region", "身份证号前两位不是有效的省级行政区代码", "The first two digits are not a valid province code"
        )
    if len(number) == 15:
        _birth_date("19" + number[6:12], today)
        return number
    _birth_date(number[6:14], today)
    if check_char(number[:17]) != number[17]:
        raise InvalidIdNumber(
            "check_digit", "身份证号校验位错误，请核对", "The check character does not match (ISO 7064 MOD 11-2)"
        )
    return number


def to_18(number15: str) -> str:
    """The 18-character form of a legacy 15-digit number: ``19`` before the year, plus a check character."""
    if len(number15) != 15 or not number15.isdigit():
        raise ValueError("need a 15-digit number")
    first17 = number15[:6] + "19" + number15[6:]
    return first17 + check_char(first17)


def canonical(number: str) -> str:
    """The 18-character form of any valid number (15-digit ones converted), for comparing identities."""
    return to_18(number) if len(number) == 15 else number


def to_15(number18: str) -> str | None:
    """The legacy 15-digit form of an 18-character number, or None when it has none (born outside 19xx)."""
    if len(number18) != 18 or number18[6:8] != "19":
        return None
    return number18[:6] + number18[8:17]


def forms(number: str) -> frozenset[str]:
    """Every spelling under which the same person's number may be on file (18-digit and, if any, 15-digit)."""
    full = canonical(number)
    legacy = to_15(full)
    return frozenset({full, legacy} if legacy else {full})


# -- masking -----------------------------------------------------------------------------------
def mask(value: str | None) -> str:
    """First 6 and last 4 characters, the rest as ``*`` (``310104********123X``)."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def _real_date(year: int, month: int, day: int, today: dt.date) -> bool:
    try:
        born = dt.date(year, month, day)
    except ValueError:
        return False
    return born.year >= 1900 and born <= today


def has_structure(number: str, *, today: dt.date | None = None) -> bool:
    """Whether ``number`` (ASCII, upper-case X) is shaped like an ID number: province, real birth date, check.

    The same rules as :func:`validate`, as a cheap yes/no: 18 characters with a valid check
    character, or 15 digits (no check character exists) with a real 19xx birth date.
    """
    if number[:2] not in PROVINCES:
        return False
    today = today or dt.date.today()
    if len(number) == 18:
        if not (number[:17].isascii() and number[:17].isdigit() and number[17] in "0123456789X"):
            return False
        if not _real_date(int(number[6:10]), int(number[10:12]), int(number[12:14]), today):
            return False
        return check_char(number[:17]) == number[17]
    if len(number) == 15 and number.isascii() and number.isdigit():
        return _real_date(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]), today)
    return False


# People write numbers in comments as they please: full-width digits (Chinese input methods),
# grouped with spaces or dashes (``1101 0119 9003 0785 15``, ``110101-19900307-8515``), glued
# to letters (``ID110101199003078515``).  A *run* is digits (and X) joined by at most three
# separator characters; each run is searched for ID-shaped windows.
_DIGITS = "0-9\uff10-\uff19"
_XS = "Xx\uff38\uff58"
_SEPARATORS = " \t\u00a0\u3000\\-\u2010\u2011\u2012\u2013\u2014\u2212\ufe63\uff0d"
_RUN = re.compile(f"[{_DIGITS}](?:[{_SEPARATORS}]{{0,3}}[{_DIGITS}{_XS}])*")
_TO_ASCII = str.maketrans("\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19x\uff38\uff58", "0123456789XXX")
_SEPARATOR_CHARS = frozenset(" \t\u00a0\u3000-\u2010\u2011\u2012\u2013\u2014\u2212\ufe63\uff0d")


def _mask_run(run: str, today: dt.date) -> str:
    """``run`` with every ID-shaped window masked, separators and other characters left in place.

    An 18-character window may start anywhere in the run (its check character makes a chance
    match about 1 in 70,000 for random digits); a 15-digit window, having no check character,
    must be a whole group: its ends are the run's ends or separators, so a 15-digit stretch of a
    longer number (a bank card, an order number) is never taken for an ID number.
    """
    positions: list[int] = []  # index in ``run`` of each digit / X
    group_starts: set[int] = set()  # indexes in ``compact`` that begin a group
    previous_separator = True
    for i, ch in enumerate(run):
        if ch in _SEPARATOR_CHARS:
            previous_separator = True
            continue
        if previous_separator:
            group_starts.add(len(positions))
        previous_separator = False
        positions.append(i)
    compact = "".join(run[i] for i in positions).translate(_TO_ASCII)
    n = len(compact)
    out = list(run)
    i = 0
    while i + 15 <= n:
        length = 0
        if i + 18 <= n and has_structure(compact[i : i + 18], today=today):
            length = 18
        elif (
            i in group_starts
            and (i + 15 == n or i + 15 in group_starts)
            and has_structure(compact[i : i + 15], today=today)
        ):
            length = 15
        if not length:
            i += 1
            continue
        for k in range(i + 6, i + length - 4):
            out[positions[k]] = "*"
        i += length
    return "".join(out)


def mask_in_text(text: str, *, today: dt.date | None = None) -> str:
    """Mask every 15- or 18-digit ID number in free text, wherever it stands (see :func:`_mask_run`).

    Only numbers with the GB 11643 structure are masked (province code, a real birth date, and for
    18 characters the check character): ordinary long numbers keep their digits.  The result has
    the same length as ``text``.
    """
    if not text:
        return text
    day = today or dt.date.today()
    return _RUN.sub(lambda m: _mask_run(m.group(0), day) if len(m.group(0)) >= 15 else m.group(0), text)
