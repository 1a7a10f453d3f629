"""Leadership's pages in a real headless Chromium, with a real worker compiling: a planner
requests a bulletin, edits its requirements and distribution, previews and issues it; a
leader on a phone-sized screen sees the figures, opens the bulletin and acknowledges it."""

import pytest

from audits.models import BulletinRecipient
from audits.services import trail
from tests.bulletins.helpers import days_ago, world
from tests.factories import PASSWORD
from tests.photos.helpers import Worker, wait_for
from tests.rendering import readback

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 740}


@pytest.fixture
def bulletin_worker(transactional_db, settings, tmp_path):
    worker = Worker(env={"EMAIL_URL": f"file://{tmp_path / 'mail'}"})
    settings.CELERY_TASK_DEFAULT_QUEUE = worker.queue
    yield worker
    worker.stop()


def sign_in(page, base: str, path: str, username: str) -> None:
    page.goto(f"{base}{path}")
    assert "/accounts/login/" in page.url
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def wait_status(page, status: str) -> None:
    # The page reloads itself while the bulletin compiles.
    page.wait_for_selector(f'#status[data-status="{status}"]', timeout=120_000)


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.fixture
def contexts(browser):
    """Browser contexts of the test (each its own session), closed after it."""
    opened = []

    def new(**options):
        opened.append(browser.new_context(locale="zh-CN", **options))
        return opened[-1].new_page()

    yield new
    for context in opened:
        context.close()


def test_planner_requests_edits_and_issues_a_leader_reads_and_acknowledges(
    live_server, contexts, bulletin_worker, tmp_path
):
    w = world()
    base = live_server.url

    # --- the planner ---------------------------------------------------------------------
    planner = contexts()
    sign_in(planner, base, "/bulletins/new/", "planner_city")
    planner.wait_for_selector("#request-form")
    planner.fill("#id_period_start", days_ago(59).isoformat())
    planner.fill("#id_period_end", days_ago(1).isoformat())
    planner.fill("#id_requirements", "各县区要逐项整改。")
    planner.click("#request")
    wait_status(planner, "draft")
    assert "/bulletins/" in planner.url
    assert planner.inner_text("#acknowledgements") == "已签收 0 / 3"

    planner.fill("#id_requirements", "请各县区于月底前报送整改台账。")
    planner.check(f"#added input[value='{w.planner_county.pk}']")
    planner.click("#save")
    wait_status(planner, "draft")
    assert planner.input_value("#id_requirements") == "请各县区于月底前报送整改台账。"
    preview = planner.request.get(base + planner.get_attribute("#open-pdf", "href"))
    assert preview.status == 200
    assert preview.headers["content-type"] == "application/pdf"
    text = readback.flat(readback.body(preview.body()))
    assert "请各县区于月底前报送整改台账。" in text
    assert "草稿" in text
    planner.screenshot(path=str(tmp_path / "planner-draft.png"), full_page=True)

    # Another planner saved the draft meanwhile: issuing the previewed version is refused.
    stale = planner.context.new_page()
    stale.goto(planner.url)
    planner.fill("#id_title", "关于近两个月基层党建暗访情况的通报")
    planner.click("#save")
    wait_status(planner, "draft")
    stale.click("#issue")
    stale.wait_for_selector("#refusal")
    assert stale.inner_text("#refusal") == "对象已被修改，请刷新后重试。"
    assert stale.get_attribute("#status", "data-status") == "draft"

    trail.trail_seal()
    planner.reload()
    planner.click("#issue")
    wait_status(planner, "issued")
    year = days_ago(0).year
    assert planner.inner_text("#number") == f"{year}年第1期"
    wait_for(
        lambda: (
            not BulletinRecipient.objects.filter(delivered_at=None).exists()
            and BulletinRecipient.objects.count() == 4
        ),
        120,
    )

    # --- a leader, on a phone ------------------------------------------------------------
    leader = contexts(viewport=PHONE)
    sign_in(leader, base, "/leadership/", "leader_city")
    leader.wait_for_selector("#period")
    leader.fill("#id_start", days_ago(59).isoformat())
    leader.fill("#id_end", days_ago(0).isoformat())
    leader.click("#show")
    leader.wait_for_selector("#figures")
    assert leader.inner_text("#inspections strong") == "1"
    assert leader.inner_text("#bulletins-issued strong") == "1"
    bars = leader.locator("#county-chart g.bar")
    assert [bars.nth(i).get_attribute("data-label") for i in range(bars.count())] == [
        "甲县",
        "乙县",
    ]
    assert int(bars.nth(0).get_attribute("data-count")) >= 2
    assert fits_the_screen(leader)
    leader.screenshot(path=str(tmp_path / "leader-dashboard.png"), full_page=True)

    leader.click("#tab-bulletins")
    leader.wait_for_selector("#inbox")
    row = leader.locator("#inbox tr.received")
    assert row.count() == 1
    assert "未签收" in row.inner_text()
    row.locator("a.open").click()
    leader.wait_for_selector("#open-pdf")
    assert leader.get_attribute("#open-pdf", "target") == "_blank"
    opened = leader.request.get(base + leader.get_attribute("#open-pdf", "href"))
    assert opened.status == 200
    assert opened.headers["content-disposition"].startswith("inline")
    assert "第1期" in readback.flat(readback.body(opened.body()))
    word = leader.request.get(base + leader.get_attribute("#download-docx", "href"))
    assert word.status == 200
    assert word.headers["content-disposition"].startswith("attachment")
    assert fits_the_screen(leader)
    leader.click("#acknowledge")
    leader.wait_for_selector("#acknowledged")
    assert leader.inner_text("#acknowledged").startswith("已于")
    leader.goto(f"{base}/bulletins/")
    assert "已签收" in leader.locator("#inbox tr.received").inner_text()
    leader.screenshot(path=str(tmp_path / "leader-inbox.png"), full_page=True)

    # The planner sees who has acknowledged and who has not.
    planner.reload()
    assert planner.inner_text("#acknowledgements") == "已签收 1 / 4"
    acked = planner.locator("#recipients tr[data-user='leader_city'] td.done")
    assert acked.count() == 1
