"""Plain visit data for the ODK form tests (no database: audits/odk takes plain data)."""

import uuid
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from audits.odk.xform import ChecklistEntry, OfficialEntry, VisitFormData

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
