"""face_recognition switches Pillow's LOAD_TRUNCATED_IMAGES on for the whole process when imported;
idsvc switches it back, so a truncated upload is refused even after the face models have run."""

from __future__ import annotations

from pathlib import Path

import pytest

from idsvc.core.errors import IdsvcError
from idsvc.documents import check_signature
from idsvc.liveness import enrol

pytestmark = pytest.mark.model


def test_truncated_images_stay_refused_after_the_face_models_ran(data_dir: Path) -> None:
    from idsvc.certificate.portrait import check_portrait

    photo = (data_dir / "faces" / "barack-obama_2.jpg").read_bytes()
    check_portrait(photo, None)  # runs face_recognition, whose import flips the flag
    with pytest.raises(IdsvcError):
        check_signature(photo[: len(photo) // 3])
    with pytest.raises(IdsvcError) as exc:
        enrol.encode_reference_photo(photo[: len(photo) // 3])
    assert exc.value.code == "image_invalid"
