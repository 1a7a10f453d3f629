"""The renderer's native dependencies: checked before rendering, installed by every setup."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from audits.rendering import fonts
from audits.rendering.engine import ffi
from audits.rendering.pdf import render_pdf
from tests.rendering.samples import sample_document

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_check():
    fonts.ensure_available.cache_clear()
    yield
    fonts.ensure_available.cache_clear()


def test_this_machine_has_everything():
    assert fonts.problems() == []
    assert all(face.exists() for face in fonts.FACES)


def test_missing_harfbuzz_subset_is_an_error_not_a_slowdown(monkeypatch, fresh_check):
    # WeasyPrint itself would only log a warning and subset 7× slower with fontTools.
    monkeypatch.setattr(ffi, "harfbuzz_subset", None)
    assert any("libharfbuzz-subset0" in problem for problem in fonts.problems())
    with pytest.raises(fonts.RenderingUnavailable, match="apt-get install .*libharfbuzz-subset0"):
        render_pdf(sample_document(1, 0))


def test_missing_fonts_are_named(monkeypatch, fresh_check):
    monkeypatch.setattr(
        fonts, "FACES", (fonts.Face("Noto Serif CJK SC", Path("/nonexistent/Noto.ttc"), 2),)
    )
    with pytest.raises(fonts.RenderingUnavailable, match="fonts-noto-cjk"):
        fonts.ensure_available()


def test_every_setup_installs_the_packages():
    wanted = set(fonts.DEBIAN_PACKAGES)
    run = (ROOT / "scripts" / "run.py").read_text()
    listed = re.search(r"RENDERING_PACKAGES = \[(.*?)\]", run, re.S).group(1)
    assert set(re.findall(r'"([^"]+)"', listed)) == wanted
    test_sh = (ROOT / "scripts" / "test.sh").read_text().replace("\\\n", " ")
    packages_line = next(line for line in test_sh.splitlines() if "services.py packages" in line)
    assert wanted <= set(packages_line.split())
    dockerfile = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    assert wanted <= set(dockerfile.split())


def test_rendering_leaves_pillow_refusing_truncated_files():
    # WeasyPrint's import switches Pillow to loading truncated images, process-wide; the
    # photo checks in the same worker must still refuse them.
    import io

    from PIL import Image, ImageFile

    import audits.rendering.pdf  # noqa: F401
    from tests.rendering.samples import preview_jpeg

    render_pdf(sample_document(1, 0))
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    truncated = preview_jpeg(1)[:20_000]
    with pytest.raises(OSError, match="truncated"), Image.open(io.BytesIO(truncated)) as im:
        im.load()
