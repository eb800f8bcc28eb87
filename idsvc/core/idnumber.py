"""Mainland resident ID numbers (GB 11643-1999): normalise, validate, convert 15 → 18.

An 18-character number is 6 digits of region, 8 of birth date (YYYYMMDD), 3 of sequence and
an ISO 7064 MOD 11-2 check character (``X`` stands for 10).  The legacy 15-digit form has a
two-digit year and no check character; :func:`to_18` converts it as the standard prescribes.
"""

from __future__ import annotations

import datetime as dt
import re

from idsvc.core.errors import IdsvcError

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


class InvalidIdNumber(IdsvcError):
    """An ID number broke a named rule (``details.rule``)."""

    def __init__(self, rule: str, message: str, message_en: str) -> None:
        super().__init__("invalid_id_number", message, message_en, status=400, details={"rule": rule})
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
