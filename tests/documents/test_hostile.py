"""Issue #9 regressions for documents: decode budget, EXIF Orientation as ASCII, filing_id parsing,
download headers, 404 for another association's member, analysis outside the write transaction."""

from __future__ import annotations

import io

import pytest

from idsvc.core.errors import IdsvcError
from idsvc.core.settings import ConfigError, Settings
from idsvc.documents import check_decode_budget, check_seal, check_signature
from tests.factories.documents_defects import clean_signature_scan
from tests.factories.documents_hostile import jpeg_with_ascii_orientation, png_bomb, progressive_scan_bomb
from tests.factories.documents_synth import to_png


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    return {
        "jpeg_7000_600_scans": progressive_scan_bomb(7000, 600),  # ~231 KB
        "jpeg_6000_600_scans": progressive_scan_bomb(6000, 600),  # under 40 MP: passes the pixel limit
        "png_8880_rgba": png_bomb(8880, "RGBA"),  # ~317 KB → 301 MB
        "png_6000_rgba16": png_bomb(6000, "RGBA", 16),  # under 40 MP, 275 MB of samples
    }


@pytest.mark.parametrize("name", ["jpeg_7000_600_scans", "jpeg_6000_600_scans", "png_8880_rgba", "png_6000_rgba16"])
def test_decode_budget_refuses_bombs(bombs: dict[str, bytes], name: str) -> None:
    with pytest.raises(IdsvcError) as info:
        check_decode_budget(bombs[name])
    assert info.value.status == 422 and info.value.code == "image_too_complex"


@pytest.mark.parametrize("name", ["jpeg_6000_600_scans", "png_6000_rgba16"])
@pytest.mark.parametrize("check", [check_signature, check_seal], ids=["signature", "seal"])
def test_checks_refuse_bombs_before_decoding(bombs: dict[str, bytes], name: str, check) -> None:
    with pytest.raises(IdsvcError) as info:
        check(bombs[name])
    assert info.value.code == "image_too_complex"


def test_budget_passes_ordinary_images() -> None:
    cost = check_decode_budget(to_png(clean_signature_scan()))
    assert cost.format == "PNG" and cost.scans == 1
    assert check_decode_budget(b"not an image").format == "other"


def test_exif_orientation_as_ascii_is_ignored_not_a_500() -> None:
    r = check_seal(jpeg_with_ascii_orientation(b"up"))
    assert r.image["width"] == 400 and r.image["height"] == 300
    assert check_signature(jpeg_with_ascii_orientation(b"6")).image["width"] == 400


def test_bad_seal_settings_fail_at_start_up() -> None:
    for env in (
        {"IDSVC_SEAL_SHAPE": "star"},
        {"IDSVC_SEAL_SIZE_MM": "huge"},
        {"IDSVC_SEAL_SIZE_MM": "٢٠"},  # Arabic-Indic digits are not accepted
        {"IDSVC_SEAL_TOLERANCE_MM": "abc"},
        {"IDSVC_SEAL_WARN_PCT": "nan"},
    ):
        with pytest.raises(ConfigError, match="IDSVC_SEAL_"):
            Settings.from_env(env)
    seal = Settings.from_env(
        {"IDSVC_SEAL_SHAPE": "round", "IDSVC_SEAL_SIZE_MM": "16", "IDSVC_SEAL_TEXT_SUFFIXES": "印"}
    ).seal
    assert (seal.shape, seal.width_mm, seal.height_mm, seal.text_suffixes) == ("round", 16.0, 16.0, ("印",))


def _post(client, url: str, data: bytes, key: str, **form):
    return client.post(
        url,
        data={"image": (io.BytesIO(data), "x.jpg"), **form},
        headers={"Authorization": key},
        content_type="multipart/form-data",
    )


@pytest.mark.integration
def test_http_bomb_and_ascii_orientation(client, platform_key: str, bombs: dict[str, bytes]) -> None:
    r = _post(client, "/v1/documents/seal/check", bombs["jpeg_6000_600_scans"], platform_key)
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "image_too_complex"
    r = _post(client, "/v1/documents/signature/check", jpeg_with_ascii_orientation(), platform_key)
    assert r.status_code == 200


@pytest.mark.integration
def test_filing_id_and_download_headers(client, platform_key: str, make_member, make_key) -> None:
    make_member("m-9", name="王小明", association="11")
    url = "/v1/members/m-9/signature"
    r = _post(client, url, to_png(clean_signature_scan(seed=7)), platform_key)
    assert r.status_code == 201, r.get_json()
    fid = r.get_json()["filing"]["filing_id"]
    auth = {"Authorization": platform_key}
    for bad in ("99999999999999999999999", "²", "-1", "1.0", "١"):
        got = client.get(f"{url}/original?filing_id={bad}", headers=auth)
        assert got.status_code == 400, (bad, got.get_json())
        assert got.get_json()["error"]["details"]["field"] == "filing_id"
    assert client.get(f"{url}/original?filing_id=999999", headers=auth).status_code == 404
    for part, ext in (("original", "png"), ("cleaned.png", "png")):
        got = client.get(f"{url}/{part}?filing_id={fid}", headers=auth)
        assert got.status_code == 200
        assert got.headers["Content-Disposition"].startswith("attachment; filename=")
        assert got.headers["Content-Disposition"].endswith(f'.{ext}"')
        assert got.headers["X-Content-Type-Options"] == "nosniff"
    other = client.get(f"{url}/original", headers={"Authorization": make_key("local", "31")})
    nobody = client.get("/v1/members/nobody/signature/original", headers={"Authorization": make_key("local", "31")})
    assert other.status_code == nobody.status_code == 404
    assert other.get_json()["error"]["code"] == nobody.get_json()["error"]["code"] == "member_not_found"


@pytest.mark.integration
def test_filing_analyses_outside_the_write_transaction(
    client, platform_key: str, make_member, services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the image is analysed no database transaction is open (a long analysis must not block writers)."""
    from idsvc.documents import filing

    make_member("m-10", name="王小明")
    open_sessions: list[int] = []
    real_db_session = services.db.session
    depth = {"n": 0}

    from contextlib import contextmanager

    @contextmanager
    def counting(**kwargs):
        depth["n"] += 1
        try:
            with real_db_session(**kwargs) as s:
                yield s
        finally:
            depth["n"] -= 1

    real_run = filing.run_check

    def spy(*args, **kwargs):
        open_sessions.append(depth["n"])
        return real_run(*args, **kwargs)

    monkeypatch.setattr(services.db, "session", counting)
    monkeypatch.setattr(filing, "run_check", spy)
    r = _post(client, "/v1/members/m-10/signature", to_png(clean_signature_scan(seed=7)), platform_key)
    assert r.status_code == 201
    assert open_sessions == [0]
