"""Plain visit data for the ODK tests (audits/odk takes plain data, no database), and the
Enketo harness: ODK's web form engine in the session's headless Chromium."""

import http.server
import subprocess
import threading
import uuid
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from audits.odk import openrosa
from audits.odk.xform import ChecklistEntry, OfficialEntry, VisitForm, VisitFormData

SHANGHAI = ZoneInfo("Asia/Shanghai")

# DOMAIN.md's 2015 standards: two with a threshold, two without.
CHECKLIST = (
    ChecklistEntry(
        "VEN-1", "村级活动场所新建或扩建，面积不少于200平方米", "阵地建设", Decimal("200"), "㎡"
    ),
    ChecklistEntry(
        "FUND-1", "村级服务群众专项经费每年不少于2万元并到位", "经费保障", Decimal("20000"), "元"
    ),
    ChecklistEntry("EDU-1", "党建工作手册人手一册", "教育培训"),
    ChecklistEntry("RESP-1", "逐级签订目标责任书", "责任落实"),
)
OFFICIALS = (
    OfficialEntry(uuid.UUID("0b0f3a52-0a39-4a2f-9d54-6f1f6f0e0001"), "王建国", "党组织书记"),
    OfficialEntry(uuid.UUID("0b0f3a52-0a39-4a2f-9d54-6f1f6f0e0002"), "李秀英", "组织委员"),
    OfficialEntry(uuid.UUID("0b0f3a52-0a39-4a2f-9d54-6f1f6f0e0003"), "张伟", "第一书记"),
)


def visit_data(**changes) -> VisitFormData:
    data = VisitFormData(
        visit_id=uuid.UUID("5a1d2c3e-8f00-4b6e-a7d1-3c9e2b7f0a11"),
        campaign_title="2015年度基层党建重点工作暗访",
        target_name="埇桥区曹村镇曹村村",
        target_code="341302101201",
        window_start=datetime(2015, 6, 1, 8, 0, tzinfo=SHANGHAI),
        window_end=datetime(2015, 6, 3, 18, 0, tzinfo=SHANGHAI),
        checklist=CHECKLIST,
        officials=OFFICIALS,
    )
    return replace(data, **changes)


@pytest.fixture
def visit() -> VisitFormData:
    return visit_data()


# ---- the Enketo harness ---------------------------------------------------------------------

ENKETO = Path(__file__).resolve().parent / "enketo"
ESBUILD = ENKETO / "node_modules" / ".bin" / "esbuild"
PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>Enketo harness</title>
<style>.or-branch.disabled, .hide {{ display: none }}</style></head>
<body><span class="form-language-selector hide"></span><div id="container"></div><script src="/driver.js?{stamp}"></script></body></html>"""


@pytest.fixture(scope="session")
def enketo_bundle(tmp_path_factory) -> bytes:
    """The driver, enketo-core and enketo-transformer's web build, bundled into one file."""
    if not ESBUILD.exists():
        pytest.fail(f"{ENKETO}/node_modules is missing: `make test` runs `npm ci` there")
    out = tmp_path_factory.mktemp("enketo") / "driver.js"
    subprocess.run(
        [
            str(ESBUILD),
            "driver.js",
            "--bundle",
            "--format=iife",
            "--platform=browser",
            "--target=chrome120",
            "--alias:enketo/config=./config.js",
            # Reached only for a preprocess hook the harness does not use (Node's libxslt).
            "--external:libxslt",
            "--log-level=warning",
            f"--outfile={out}",
        ],
        cwd=ENKETO,
        check=True,
        timeout=120,
    )
    return out.read_bytes()


class OpenRosaStub:
    """Serves published forms the OpenRosa way (form list, XForm, manifest, media) on
    loopback, and records every request: the stand-in until the real endpoints exist."""

    def __init__(self, bundle: bytes) -> None:
        self.forms: dict[str, VisitForm] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                stub.requests.append((self.path, dict(self.headers)))
                status, content_type, body = stub.answer(self.path.split("?")[0], bundle)
                self.send_response(status)
                for name, value in openrosa.headers().items():
                    self.send_header(name, value)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def publish(self, form: VisitForm) -> None:
        self.forms[form.form_id] = form

    def answer(self, path: str, bundle: bytes) -> tuple[int, str, bytes]:
        if path == "/":
            return 200, "text/html; charset=utf-8", PAGE.format(stamp=id(bundle)).encode()
        if path == "/driver.js":
            return 200, "text/javascript; charset=utf-8", bundle
        if path == "/formList":
            entries = [
                openrosa.FormListEntry(
                    form_id=f.form_id,
                    name=f.title,
                    version=f.version,
                    hash=f.md5,
                    download_url=f"{self.url}/forms/{f.form_id}.xml",
                    manifest_url=f"{self.url}/forms/{f.form_id}/manifest",
                )
                for f in self.forms.values()
            ]
            return 200, openrosa.CONTENT_TYPE, openrosa.form_list(entries)
        parts = path.strip("/").split("/")
        if len(parts) >= 2 and parts[0] == "forms":
            form = self.forms.get(parts[1].removesuffix(".xml"))
            if form and len(parts) == 2 and parts[1].endswith(".xml"):
                return 200, openrosa.CONTENT_TYPE, form.xml
            if form and parts[2:] == ["manifest"]:
                files = [
                    openrosa.ManifestEntry(
                        m.filename, m.md5, f"{self.url}/forms/{form.form_id}/media/{m.filename}"
                    )
                    for m in form.media
                ]
                return 200, openrosa.CONTENT_TYPE, openrosa.manifest(files)
            if form and len(parts) == 4 and parts[2] == "media":
                media = {m.filename: m.content for m in form.media}
                if parts[3] in media:
                    return 200, "text/csv; charset=utf-8", media[parts[3]]
        # Map tiles included: the geopoint widget gets nothing and points are typed in.
        return 404, "text/plain", b"not found"


@pytest.fixture
def openrosa_stub(enketo_bundle):
    stub = OpenRosaStub(enketo_bundle)
    stub.thread.start()
    yield stub
    stub.server.shutdown()
    stub.server.server_close()


@pytest.fixture
def enketo(browser, openrosa_stub):
    """A page running the harness; any request leaving loopback is refused and recorded."""
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    escaped: list[str] = []

    def guard(route):
        if route.request.url.startswith(openrosa_stub.url + "/"):
            route.continue_()
        else:
            escaped.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"{exc.name}: {exc.message} {exc.stack}"))
    page.goto(openrosa_stub.url + "/")
    page.wait_for_function("window.harness !== undefined")
    page.escaped_requests = escaped
    page.page_errors = errors
    yield page
    context.close()
