"""The 宿州市 tree and the name parts the demo data is built from (DOMAIN.md, "Demo data").

What is real and what is made up:

- The city, its four counties and one district, and their codes are the national
  administrative-division codes (宿州市 341300, 埇桥区 341302, 砀山县 341321, 萧县 341322,
  灵璧县 341323, 泗县 341324).
- The development zones are real names, but their codes (341371-341373) are SYNTHETIC: zones
  have no division code of their own; these sit in the 3413xx range without colliding with a
  county.
- Township and street names of the counties are real (as of about 2015); their 9-digit codes
  follow the national pattern (county code + 0xx for streets 街道, 1xx for towns 镇, 2xx for
  townships 乡) but are numbered in list order, so they need not match the official codes.
  The streets listed under the zones are plausible, not real.
- Villages and communities are synthetic: names built from the parts below, codes = township
  code + 001.. for communities (居委会) and + 201.. for villages (村委会), as in the national
  scheme. Officials' names are synthetic too.
- Coordinates are plausible, not surveyed: each county's units are scattered (seeded) around
  its real seat inside a box roughly covering the county, inside the city's bounding box.
"""

from dataclasses import dataclass

CITY_CODE = "341300"
CITY_NAME = "宿州市"

# The city's bounding box (lat, lon); every generated coordinate lies inside it.
BBOX = (33.30, 34.60, 116.30, 118.20)

# The real scale (the article): 1,210 villages and 99 communities across the city.
FULL_VILLAGES = 1210
FULL_COMMUNITIES = 99

# Kinds of township-level unit: a street (街道), the county-seat town, a town (镇), a 乡.
STREET, SEAT, TOWN, XIANG = "street", "seat", "town", "xiang"


@dataclass(frozen=True)
class Area:
    """A county, district or zone with its seat, the box its units lie in, and townships."""

    code: str
    name: str
    level: str  # "county" or "zone"
    seat: tuple[float, float]  # lat, lon of the party-mass service centre of the seat
    box: tuple[float, float, float, float]  # lat_min, lat_max, lon_min, lon_max
    spread: float  # standard deviation (degrees) of townships around the seat
    townships: tuple[tuple[str, str], ...]  # (name, kind), in code order within each kind
    demo: tuple[str, ...]  # names of the townships the demo scale builds
    # Town names whose 组织干事 post is empty (STAFF-1), and ones where it fell vacant.
    no_clerk: tuple[str, ...] = ()
    clerk_left: tuple[str, ...] = ()


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _t(kind: str, names: str) -> tuple[tuple[str, str], ...]:
    return tuple((name, kind) for name in _words(names))


AREAS: tuple[Area, ...] = (
    Area(
        code="341302",
        name="埇桥区",
        level="county",
        seat=(33.640, 116.975),
        box=(33.32, 33.98, 116.62, 117.42),
        spread=0.18,
        townships=(
            *_t(
                STREET,
                "埇桥街道 沱河街道 道东街道 南关街道 北关街道 东关街道 三里街道 "
                "汴河街道 城东街道 西关街道",
            ),
            *_t(
                TOWN,
                "符离镇 夹沟镇 曹村镇 褚兰镇 时村镇 桃园镇 灰古镇 永安镇 朱仙庄镇 蕲县镇 "
                "大店镇 大营镇 栏杆镇 芦岭镇 西寺坡镇 大泽乡镇 苗安镇",
            ),
            *_t(XIANG, "杨庄乡 顺河乡 永镇乡 桃沟乡 西二铺乡 解集乡 支河乡 北杨寨乡"),
        ),
        demo=("埇桥街道", "沱河街道", "符离镇", "夹沟镇", "杨庄乡"),
        no_clerk=("桃沟乡",),
    ),
    Area(
        code="341321",
        name="砀山县",
        level="county",
        seat=(34.440, 116.370),
        box=(34.28, 34.58, 116.32, 116.68),
        spread=0.08,
        townships=(
            *_t(SEAT, "砀城镇"),
            *_t(
                TOWN,
                "曹庄镇 关帝庙镇 周寨镇 朱楼镇 李庄镇 唐寨镇 葛集镇 赵屯镇 程庄镇 "
                "官庄坝镇 玄庙镇 良梨镇",
            ),
        ),
        demo=("砀城镇", "李庄镇", "周寨镇", "良梨镇"),
        clerk_left=("周寨镇",),
    ),
    Area(
        code="341322",
        name="萧县",
        level="county",
        seat=(34.190, 116.940),
        box=(33.95, 34.45, 116.55, 117.18),
        spread=0.13,
        townships=(
            *_t(SEAT, "龙城镇"),
            *_t(
                TOWN,
                "黄口镇 杨楼镇 闫集镇 新庄镇 刘套镇 马井镇 官桥镇 丁里镇 王寨镇 祖楼镇 "
                "青龙镇 张庄寨镇 永堌镇 白土镇 圣泉镇 杜楼镇 大屯镇 赵庄镇",
            ),
            *_t(XIANG, "孙圩子乡 酒店乡 庄里乡 石林乡"),
        ),
        demo=("龙城镇", "黄口镇", "杨楼镇", "闫集镇", "孙圩子乡"),
        no_clerk=("杨楼镇",),
        clerk_left=("闫集镇",),
    ),
    Area(
        code="341323",
        name="灵璧县",
        level="county",
        seat=(33.550, 117.550),
        box=(33.32, 34.02, 117.26, 117.80),
        spread=0.14,
        townships=(
            *_t(SEAT, "灵城镇"),
            *_t(
                TOWN,
                "韦集镇 黄湾镇 娄庄镇 杨疃镇 尹集镇 浍沟镇 尤集镇 高楼镇 冯庙镇 渔沟镇 "
                "下楼镇 朝阳镇 游集镇 虞姬镇",
            ),
            *_t(XIANG, "向阳乡 大路乡 禅堂乡 大庙乡"),
        ),
        demo=("灵城镇", "韦集镇", "黄湾镇", "向阳乡"),
        no_clerk=("向阳乡",),
    ),
    Area(
        code="341324",
        name="泗县",
        level="county",
        seat=(33.480, 117.910),
        box=(33.32, 33.78, 117.66, 118.15),
        spread=0.10,
        townships=(
            *_t(SEAT, "泗城镇"),
            *_t(
                TOWN, "墩集镇 丁湖镇 草庙镇 山头镇 刘圩镇 大庄镇 长沟镇 黄圩镇 屏山镇 草沟镇 黑塔镇"
            ),
            *_t(XIANG, "瓦坊乡 大路口乡 大杨乡"),
        ),
        demo=("泗城镇", "墩集镇", "草沟镇", "大路口乡"),
    ),
    Area(
        code="341371",
        name="宿州经济技术开发区",
        level="zone",
        seat=(33.605, 117.015),
        box=(33.56, 33.65, 116.97, 117.07),
        spread=0.02,
        townships=_t(STREET, "金海街道 金泰街道"),
        demo=("金海街道",),
    ),
    Area(
        code="341372",
        name="宿州高新技术产业开发区",
        level="zone",
        seat=(33.675, 116.925),
        box=(33.63, 33.72, 116.87, 116.98),
        spread=0.02,
        townships=_t(STREET, "三八街道 汴北街道"),
        demo=("三八街道",),
    ),
    Area(
        code="341373",
        name="宿马现代产业园区",
        level="zone",
        seat=(33.560, 117.110),
        box=(33.50, 33.62, 117.04, 117.18),
        spread=0.03,
        townships=_t(STREET, "宿东街道 新汴街道"),
        demo=("宿东街道",),
    ),
)

CITY_SEAT = (33.646, 116.964)

# How many villages / communities each kind of township gets, relatively (before a seeded
# jitter of ±30%); the totals are then apportioned exactly to FULL_VILLAGES / FULL_COMMUNITIES.
VILLAGE_WEIGHT = {STREET: 1.0, SEAT: 8.0, TOWN: 13.0, XIANG: 11.0}
COMMUNITY_WEIGHT = {STREET: 4.0, SEAT: 5.0, TOWN: 0.2, XIANG: 0.0}

# The demo scale takes the first few of each township's villages and communities.
DEMO_VILLAGES_PER_TOWNSHIP = 5
DEMO_COMMUNITIES_PER_TOWNSHIP = 2

# Name parts of villages: [prefix] + surname + suffix + 村 (张庄村, 前王楼村, 李圩村).
VILLAGE_PREFIXES = tuple("前后东西南北大小新老")
VILLAGE_SURNAMES = tuple(
    "张王李刘陈杨赵黄周吴徐孙朱马胡郭何高梁郑宋谢韩曹许邓冯程蔡彭袁董苏吕魏蒋田杜丁沈"
    "范傅卢汪崔任姚方金夏贾邹石孟秦薛侯白段郝孔邵史毛常顾武康贺尹钱施牛葛闫祖褚蔺解时"
    "卞岳陶盛鲍房"
)
VILLAGE_SUFFIXES = tuple("庄楼圩集寨营湖口桥店庙洼套窑湾场园屯岗沟台林井坊")

# Names of communities (…社区).
COMMUNITY_NAMES = _words(
    "东关 西关 南关 北关 淮河 汴河 人民 解放 建设 和平 幸福 新华 文化 "
    "朝阳 光明 凤凰 锦绣 翠园 花园 新城 滨河 金桥 银河 兴华 育才 民主 "
    "胜利 红旗 团结 迎宾 永安 康乐 泰和 富民 长安 振兴 汇源 书香 绿洲 "
    "公园 站前 城北 城南 府前 龙河 河滨 沱河 濉河 新汴 古城"
)

# Officials' names: surname + one or two given-name characters.
SURNAMES = tuple(
    "王王王张张张李李李刘刘陈陈杨杨赵黄周吴徐孙朱马胡郭林何高梁郑罗宋谢唐韩曹许邓萧冯"
    "曾程蔡彭潘袁于董余苏叶吕魏蒋田杜丁沈姜范江傅钟卢汪戴崔任陆姚方金邱夏谭韦贾邹石孟"
    "秦阎薛侯雷白段郝孔邵史毛常万顾武康贺尹钱施牛洪龚葛褚时"
)
GIVEN_CHARS = tuple(
    "建国军伟华明强平志文东海林峰磊勇杰涛斌刚辉敏静丽红霞燕芳玲娟英梅春秀兰桂德永成庆"
    "学新宏俊亮超飞鹏波晓云玉凤荣胜利忠民光金保长福家振立守先传道怀卫书广士全继启翠素"
    "彦"
)
