"""Synthetic bulletins for the renderer's tests and bench/bulletins.py (no database)."""

from __future__ import annotations

import functools
import io
import random
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

from audits.rendering.document import (
    Adjustment,
    BulletinDocument,
    Case,
    Count,
    Distribution,
    Interview,
    OverdueItem,
    Overview,
    Photo,
    Rectification,
    SealedHead,
)

COUNTIES = ("埇桥区", "砀山县", "萧县", "灵璧县", "泗县")
CATEGORIES = (
    "组织生活不规范",
    "阵地建设不达标",
    "党员教育管理松散",
    "党费收缴不及时",
    "制度落实不到位",
    "为民服务不主动",
)
SEVERITIES = ("严重", "较重", "一般")
STATUSES = ("已整改", "整改中", "逾期未整改")
# Names with the rare characters the issue names: each must print with a real glyph.
RARE_NAMES = ("王堃", "李喆", "张珺", "刘昇", "陈琍", "赵翀", "周〇明")
NAMES = (*RARE_NAMES, "吴建国", "郑晓梅", "冯立新", "褚卫东", "卫红英", "蒋志强")
UNITS = ("社区党委", "村党支部", "街道党工委", "镇党委", "机关党支部", "非公企业党支部")
PLACES = ("城东", "杨楼", "朱集", "黄湾", "大庄", "永安", "蒿沟", "韦集", "渔沟", "屏山")

ISSUING_BODY = "中共宿州市委组织部"
HEADING = "关于2015年上半年基层党建工作暗访情况的通报"
REQUIREMENTS = (
    "各县区党委组织部要对照本期通报的问题，逐项建立整改台账，明确责任人和整改时限，"
    "于7月31日前将整改情况书面报送市委组织部组织科。\n"
    "各基层党组织要举一反三，全面排查“三会一课”、主题党日、党费收缴等制度落实情况，"
    "坚决防止同类问题反复出现。\n"
    "市委组织部将适时开展“回头看”，对整改不力、敷衍塞责的，严肃追究有关人员责任。"
)
ROOT_HEX = "9f2c4e1ab37d5c60e8f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7"


class _Finding(NamedTuple):
    title: str
    unit: str
    county: str
    category: str
    severity: str
    status: str
    deadline: date


@functools.cache
def preview_jpeg(seed: int, size: tuple[int, int] = (1600, 1200)) -> bytes:
    """A stored preview as the photo worker makes it: 1600 px, JPEG quality 85, with the
    grain of a phone camera so that it weighs what a real one does (about 0.5 MB)."""
    from PIL import Image, ImageChops

    rng = random.Random(seed)
    small = Image.frombytes("RGB", (12, 9), rng.randbytes(12 * 9 * 3))
    base = small.resize(size, Image.Resampling.BICUBIC)
    grain = Image.effect_noise(size, 10).convert("RGB")
    picture = ImageChops.add(base, grain, scale=1.0, offset=-100)
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85)
    return out.getvalue()


def _pick(rng: random.Random, items: tuple[str, ...]) -> str:
    return items[rng.randrange(len(items))]


def _unit(rng: random.Random) -> str:
    return f"{_pick(rng, PLACES)}{_pick(rng, UNITS)}"


def sample_document(
    findings: int = 20,
    photos: int = 4,
    *,
    draft: bool = False,
    requirements: str = REQUIREMENTS,
    head: bool = True,
    seed: int = 2015,
) -> BulletinDocument:
    """A plausible city bulletin: `findings` published findings counted by county, category
    and severity, typical cases carrying `photos` photos two by two, the overdue third of
    the findings listed, interviews and adjustments in proportion."""
    rng = random.Random(seed)
    start, end = date(2015, 1, 1), date(2015, 6, 30)
    lines = []
    for n in range(findings):
        lines.append(
            _Finding(
                title=f"{_pick(rng, CATEGORIES)}问题（第{n + 1}项）",
                unit=_unit(rng),
                county=_pick(rng, COUNTIES),
                category=_pick(rng, CATEGORIES),
                severity=_pick(rng, SEVERITIES),
                status=_pick(rng, STATUSES),
                deadline=end + timedelta(days=rng.randrange(10, 60)),
            )
        )
    by_county = tuple(Count(c, sum(1 for f in lines if f.county == c)) for c in COUNTIES)
    by_category = tuple(Count(c, sum(1 for f in lines if f.category == c)) for c in CATEGORIES)
    by_severity = tuple(Count(s, sum(1 for f in lines if f.severity == s)) for s in SEVERITIES)

    cases = []
    photo_seed = 0
    for i in range((photos + 1) // 2 if photos else min(3, findings)):
        line = lines[i % len(lines)] if lines else None
        if line is None:
            break
        take = min(2, photos - 2 * i) if photos else 0
        case_photos = []
        for k in range(take):
            photo_seed += 1
            case_photos.append(Photo(preview_jpeg(photo_seed), f"{line.unit}会议记录本（{k + 1}）"))
        official = _pick(rng, NAMES)
        cases.append(
            Case(
                title=f"{line.county}{line.unit}{line.category}",
                unit=line.unit,
                county=line.county,
                category=line.category,
                severity=line.severity,
                description=(
                    "暗访组随机抽查该单位2015年以来的“三会一课”记录，发现支部委员会会议记录"
                    "连续三个月空白，党员大会记录内容雷同、签名笔迹一致，"
                    f"支部书记{official}对党员人数、党费收缴情况说不清楚；"
                    "党员活动室长期上锁，宣传栏内容仍为2013年的材料。"
                ),
                observed_on=start + timedelta(days=rng.randrange(0, 180)),
                responsible=(f"{official}（支部书记）", f"{_pick(rng, NAMES)}（分管负责人）"),
                deadline=line.deadline,
                status=line.status,
                photos=tuple(case_photos),
            )
        )

    overdue = [f for f in lines if f.status == "逾期未整改"]
    interviews = tuple(
        Interview(
            official=_pick(rng, NAMES),
            unit=_unit(rng),
            title=_pick(rng, ("党委书记", "支部书记", "组织委员")),
            kind=_pick(rng, ("提醒谈话", "诫勉谈话", "约谈")),
            held_on=start + timedelta(days=rng.randrange(30, 180)),
        )
        for _ in range(max(1, findings // 20) if findings else 0)
    )
    adjustments = tuple(
        Adjustment(
            official=_pick(rng, NAMES),
            unit=_unit(rng),
            action=_pick(rng, ("免职", "调离岗位", "责令辞职")),
            decision_number=f"宿组干〔2015〕{n + 11}号",
            effective_on=start + timedelta(days=rng.randrange(60, 180)),
        )
        for n in range(findings // 50)
    )
    return BulletinDocument(
        issuing_body=ISSUING_BODY,
        heading=HEADING,
        issued_on=date(2015, 7, 10),
        period_start=start,
        period_end=end,
        year=None if draft else 2015,
        number=None if draft else 7,
        scope="全市",
        overview=Overview(
            inspection_rounds=6 if findings else 0,
            visits_done=max(findings // 2, 1) if findings else 0,
            units_covered=max(findings // 3, 1) if findings else 0,
            findings_total=findings,
            findings_by_severity=by_severity if findings else (),
            officials_interviewed=len(interviews),
            adjustments=len(adjustments),
        ),
        by_county=by_county if findings else (),
        by_category=by_category if findings else (),
        cases=tuple(cases),
        interviews=interviews,
        adjustments=adjustments,
        rectification=Rectification(
            verified=sum(1 for f in lines if f.status == "已整改"),
            on_time=sum(1 for f in lines if f.status == "整改中"),
            overdue=len(overdue),
            overdue_items=tuple(
                OverdueItem(
                    title=f.title,
                    unit=f.unit,
                    county=f.county,
                    responsible=_pick(rng, NAMES),
                    deadline=date(2015, 5, 31),
                    days_overdue=40,
                )
                for f in overdue
            ),
        ),
        requirements=requirements,
        distribution=Distribution(
            main_to=(
                "各县区党委",
                "市委各部委",
                "市直各单位党组（党委）",
                *(f"{c}委组织部" for c in COUNTIES),
            ),
            copy_to=("市委书记、副书记", "市委常委", "市纪委", "省委组织部组织二处"),
        ),
        head=(
            SealedHead(
                tree_size=48213,
                root_hex=ROOT_HEX,
                signed_at=datetime(2015, 7, 10, 9, 30, tzinfo=UTC),
                key_id="3f9a0c1d2e4b5a67",
                signature_b64="MEUCIQDx3y0VwAq8Hj6tKpU2m1Lr7s9o1F3nq0Z2bcdEfGhIjw==",
            )
            if head
            else None
        ),
    )
