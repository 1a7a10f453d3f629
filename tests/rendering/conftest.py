"""Bulletins rendered once per test session: rendering is the slow part, reading is cheap."""

from __future__ import annotations

import dataclasses

import pytest

from audits.rendering.docx import render_docx
from audits.rendering.pdf import render_pdf
from tests.rendering.samples import sample_document


@pytest.fixture(scope="session")
def issued():
    return sample_document(20, 4)


@pytest.fixture(scope="session")
def issued_pdf(issued) -> bytes:
    return render_pdf(issued)


@pytest.fixture(scope="session")
def issued_docx(issued) -> bytes:
    return render_docx(issued)


@pytest.fixture(scope="session")
def draft_pdf() -> bytes:
    return render_pdf(
        dataclasses.replace(sample_document(6, 0, draft=True), corrects="2015年第3期")
    )


@pytest.fixture(scope="session")
def empty():
    return sample_document(0, 0, requirements="")


@pytest.fixture(scope="session")
def empty_pdf(empty) -> bytes:
    return render_pdf(empty)
