"""Who the demo's subjects are: regions (GB/T 2260), names, unified social credit
codes (GB 32100) and responsible persons' identity numbers, all drawn from ``seed``."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from demo.days import (
    DEMO_START,
)
from events.codes import ALPHABET, complete_subject_code

# -- identities: regions, names, codes, persons --------------------------------------


@dataclass(frozen=True, slots=True)
class _Region:
    code: str
    city: str
    """How the city opens a company name (北京 / 深圳市)."""
    abbr: str
    """The abbreviation in document numbers (深市监罚〔2024〕12号)."""
    province: str
    """The province abbreviation in court case numbers (（2024）粤0305执123号)."""
    districts: tuple[tuple[str, str], ...]
    """(GB/T 2260 county-level code, name) pairs."""
    weight: int


_REGIONS: tuple[_Region, ...] = (
    _Region(
        "440300",
        "深圳市",
        "深",
        "粤",
        (
            ("440303", "罗湖区"),
            ("440304", "福田区"),
            ("440305", "南山区"),
            ("440306", "宝安区"),
            ("440307", "龙岗区"),
        ),
        16,
    ),
    _Region(
        "310000",
        "上海",
        "沪",
        "沪",
        (("310101", "黄浦区"), ("310104", "徐汇区"), ("310112", "闵行区"), ("310115", "浦东新区")),
        14,
    ),
    _Region(
        "110000",
        "北京",
        "京",
        "京",
        (("110101", "东城区"), ("110102", "西城区"), ("110105", "朝阳区"), ("110108", "海淀区")),
        14,
    ),
    _Region(
        "330100",
        "杭州市",
        "杭",
        "浙",
        (("330102", "上城区"), ("330106", "西湖区"), ("330108", "滨江区"), ("330110", "余杭区")),
        10,
    ),
    _Region(
        "440100",
        "广州市",
        "穗",
        "粤",
        (("440103", "荔湾区"), ("440104", "越秀区"), ("440106", "天河区"), ("440111", "白云区")),
        10,
    ),
    _Region(
        "320100",
        "南京市",
        "宁",
        "苏",
        (("320102", "玄武区"), ("320104", "秦淮区"), ("320106", "鼓楼区"), ("320115", "江宁区")),
        7,
    ),
    _Region(
        "410100",
        "郑州市",
        "郑",
        "豫",
        (
            ("410102", "中原区"),
            ("410104", "管城回族区"),
            ("410105", "金水区"),
            ("410122", "中牟县"),
        ),
        7,
    ),
    _Region(
        "370100",
        "济南市",
        "济",
        "鲁",
        (("370102", "历下区"), ("370103", "市中区"), ("370105", "天桥区"), ("370112", "历城区")),
        6,
    ),
    _Region(
        "360100",
        "南昌市",
        "洪",
        "赣",
        (("360102", "东湖区"), ("360103", "西湖区"), ("360111", "青山湖区"), ("360121", "南昌县")),
        6,
    ),
    _Region(
        "510100",
        "成都市",
        "成",
        "川",
        (("510104", "锦江区"), ("510105", "青羊区"), ("510107", "武侯区"), ("510108", "成华区")),
        5,
    ),
    _Region(
        "420100",
        "武汉市",
        "武",
        "鄂",
        (("420102", "江岸区"), ("420103", "江汉区"), ("420106", "武昌区"), ("420111", "洪山区")),
        5,
    ),
)

# (prefix, share in ‰): registration authority and entity category (GB 32100 table 1-2).
_PREFIXES: tuple[tuple[str, int], ...] = (
    ("91", 740),
    ("92", 100),
    ("93", 35),
    ("11", 15),
    ("12", 25),
    ("51", 20),
    ("52", 20),
    ("53", 10),
    ("N2", 20),
    ("A1", 8),
    ("Y1", 7),
)

_BRAND_1 = "华恒鑫宏中瑞金东天盛博嘉锦润汇联永新卓安佳明信海龙凯同正康益远云星启德万晨格优鼎"
_BRAND_2 = "信达源泰科丰桥方元世禾程泽通创昌航越和成兴茂盛辉祥邦宁民帆辰拓美智诚弘"

# (industry in the name, sectors its findings come from)
_INDUSTRIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("电子科技", ("product-quality", "fire-safety", "tax", "labour")),
    ("信息技术", ("tax", "labour", "advertising")),
    ("食品", ("food", "product-quality", "tax")),
    ("餐饮管理", ("food", "fire-safety", "labour")),
    ("建筑工程", ("work-safety", "labour", "special-equipment", "environment")),
    ("环保科技", ("environment", "tax")),
    ("化工", ("environment", "work-safety", "fire-safety")),
    ("物流", ("work-safety", "special-equipment", "labour", "tax")),
    ("商贸", ("product-quality", "tax", "advertising")),
    ("医药", ("product-quality", "advertising", "tax")),
    ("生物科技", ("product-quality", "environment", "tax")),
    ("机械设备", ("special-equipment", "product-quality", "work-safety")),
    ("电梯工程", ("special-equipment", "work-safety")),
    ("新材料", ("environment", "work-safety", "product-quality")),
    ("房地产开发", ("labour", "tax", "advertising", "fire-safety")),
    ("物业管理", ("fire-safety", "special-equipment", "labour")),
    ("文化传媒", ("advertising", "tax")),
    ("供应链管理", ("tax", "product-quality")),
    ("人力资源服务", ("labour", "tax")),
    ("汽车销售服务", ("product-quality", "advertising", "environment")),
    ("装饰工程", ("work-safety", "labour", "fire-safety")),
    ("纺织服装", ("product-quality", "environment", "labour")),
    ("网络科技", ("advertising", "tax")),
    ("新能源科技", ("product-quality", "work-safety", "environment")),
    ("检测技术", ("product-quality", "tax")),
)
_FORMS = ("有限公司",) * 16 + ("股份有限公司",) * 3 + ("有限责任公司",)
_SHOPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("餐饮店", ("food", "fire-safety")),
    ("便利店", ("food", "product-quality")),
    ("五金店", ("product-quality",)),
    ("汽车修理厂", ("environment", "work-safety")),
    ("服装店", ("product-quality",)),
    ("水果店", ("food",)),
    ("烧烤店", ("food", "fire-safety", "environment")),
    ("药店", ("product-quality", "advertising")),
    ("小吃店", ("food",)),
    ("建材经营部", ("product-quality", "tax")),
)
_COOPS = ("蔬菜种植", "果蔬", "生猪养殖", "茶叶", "水稻种植", "农机", "花卉苗木", "中药材种植")
_ORGANS = (
    "城市管理和综合执法局",
    "住房和城乡建设局",
    "教育局",
    "卫生健康委员会",
    "农业农村局",
    "水务局",
    "交通运输局",
    "文化和旅游局",
)
_INSTITUTIONS = (
    "人民医院",
    "中医医院",
    "实验小学",
    "第一中学",
    "疾病预防控制中心",
    "图书馆",
    "妇幼保健院",
    "职业技术学校",
)
_NONPROFITS = ("养老服务中心", "职业培训学校", "康复中心", "社会工作服务中心", "艺术培训中心")
_VILLAGES = "东营前进红星新庄李家王庄河西马坊柳林高桥南湾北岗石门杨柳"
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾"
)
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红玉峰斌文亮海波宇浩婷雪琳晨欣"

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_number_check(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits of a resident identity number.

    Weights 7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2; the check is ``"10X98765432"`` at
    Σ mod 11. ``first17`` must be 17 ASCII digits (``ValueError`` otherwise).
    """
    if len(first17) != 17 or not first17.isdigit() or not first17.isascii():
        raise ValueError("an identity number's check needs exactly 17 digits")
    return _ID_CHECK[sum(w * int(c) for w, c in zip(_ID_WEIGHTS, first17, strict=True)) % 11]


@dataclass(frozen=True, slots=True)
class Subject:
    code: str
    name: str
    prefix: str
    region: _Region
    district: tuple[str, str]
    sectors: tuple[str, ...]
    """Sectors the subject's findings may come from."""
    profile: str
    """``clean``, ``findings`` or ``heavy``."""
    established: date
    """Registration date (before the demo for older subjects)."""
    start: date
    """From when the subject's demo life runs (≥ DEMO_START)."""
    story_seed: int

    @property
    def individual(self) -> bool:
        """Individual businesses (92) are natural persons for the 200-yuan rule."""
        return self.prefix == "92"

    @property
    def business(self) -> bool:
        """Market subjects that hold licences and can be penalised routinely."""
        return self.prefix in {"91", "92", "93"}


def _brand(rng: random.Random) -> str:
    return rng.choice(_BRAND_1) + rng.choice(_BRAND_2)


def _person_name(rng: random.Random) -> str:
    given = rng.choice(_GIVEN) + (rng.choice(_GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(_SURNAMES) + given


def _subject_name(
    rng: random.Random, prefix: str, region: _Region, district: tuple[str, str]
) -> tuple[str, tuple[str, ...]]:
    """A plausible Chinese name for the subject and the sectors it is supervised in."""
    city, dname = region.city, district[1]
    cityfull = city if city.endswith("市") else city + "市"
    if prefix == "91":
        industry, sectors = rng.choice(_INDUSTRIES)
        return f"{city}{_brand(rng)}{industry}{rng.choice(_FORMS)}", sectors
    if prefix == "92":
        shop, sectors = rng.choice(_SHOPS)
        owner = rng.choice(_SURNAMES) + "记" if rng.random() < 0.5 else _brand(rng)
        return f"{cityfull}{dname}{owner}{shop}", sectors
    if prefix == "93":
        return (
            f"{cityfull}{dname}{_brand(rng)}{rng.choice(_COOPS)}专业合作社",
            ("food", "environment"),
        )
    if prefix == "11":
        return f"{cityfull}{dname}{rng.choice(_ORGANS)}", ("fire-safety",)
    if prefix == "12":
        return f"{cityfull}{dname}{rng.choice(_INSTITUTIONS)}", ("fire-safety", "environment")
    if prefix == "51":
        industry = rng.choice(_INDUSTRIES)[0]
        if rng.random() < 0.5:
            return f"{cityfull}{industry}行业协会", ("advertising",)
        return f"{cityfull}{rng.choice(_BRAND_1)}{rng.choice(_BRAND_2)}商会", ("advertising",)
    if prefix == "52":
        return f"{cityfull}{dname}{_brand(rng)}{rng.choice(_NONPROFITS)}", ("fire-safety", "food")
    if prefix == "53":
        return f"{cityfull}{_brand(rng)}公益基金会", ("advertising",)
    if prefix == "N2":
        village = _VILLAGES[rng.randrange(0, len(_VILLAGES), 2) :][:2]
        return f"{cityfull}{dname}{village}村股份经济合作社", ("environment",)
    if prefix == "A1":
        return f"{cityfull}军队离退休干部第{rng.randint(1, 12)}休养所", ("fire-safety",)
    return f"{cityfull}{dname}{_brand(rng)}社区服务中心", ("fire-safety",)  # Y1


def _org_body(rng: random.Random, prefix: str) -> str:
    """Eight organisation-code characters: ``MA`` + 6 (new style) or 8 digits (old)."""
    old_share = {"91": 0.2, "11": 0.9, "12": 0.8, "51": 0.5, "52": 0.4, "53": 0.5}.get(prefix, 0.0)
    if rng.random() < old_share:
        return f"{rng.randrange(10**7, 10**8):08d}"
    return "MA" + "".join(rng.choice(ALPHABET) for _ in range(6))


def _subjects(count: int, seed: int) -> list[Subject]:
    """The demo's subjects, deterministic for (count, seed)."""
    master = random.Random(seed)
    # exact quotas of prefixes and regions, shuffled
    prefixes: list[str] = []
    for prefix, share in _PREFIXES[1:]:
        prefixes += [prefix] * max(1 if count >= 50 else 0, round(count * share / 1000))
    prefixes = (["91"] * max(0, count - len(prefixes)) + prefixes)[:count]
    master.shuffle(prefixes)
    total = sum(r.weight for r in _REGIONS)
    regions: list[_Region] = []
    for region in _REGIONS:
        regions += [region] * max(1 if count >= 50 else 0, round(count * region.weight / total))
    regions = (regions + [_REGIONS[0]] * count)[:count]
    master.shuffle(regions)

    used_codes: set[str] = set()
    used_names: set[str] = set()
    out: list[Subject] = []
    span = (date(2026, 6, 30) - DEMO_START).days
    for i in range(count):
        rng = random.Random(master.getrandbits(64))
        prefix, region = prefixes[i], regions[i]
        district = rng.choice(region.districts)
        while True:
            code = complete_subject_code(prefix + region.code + _org_body(rng, prefix))
            if code not in used_codes:
                break
        while True:
            name, sectors = _subject_name(rng, prefix, region, district)
            if name not in used_names:
                break
            if prefix in {"11", "12", "A1"}:  # few distinct names: number the branch
                name = f"{name}（第{len(used_names) % 97 + 2}分部）"
                if name not in used_names:
                    break
        used_codes.add(code)
        used_names.add(name)
        x = rng.random()
        if prefix in {"11", "A1", "Y1", "53"}:
            profile = "clean"
        elif prefix in {"12", "51", "52", "N2", "93"}:
            profile = "clean" if x < 0.8 else "findings"
        else:
            profile = "clean" if x < 0.58 else "findings" if x < 0.885 else "heavy"
        start = DEMO_START + timedelta(days=int(span * rng.random() ** 1.7))
        if rng.random() < 0.45:
            established = date(rng.randint(1995, 2022), rng.randint(1, 12), rng.randint(1, 28))
        else:
            established = start - timedelta(days=rng.randint(0, 60))
        if profile == "heavy":  # a heavy life needs time to unfold
            start = DEMO_START + timedelta(days=int((start - DEMO_START).days * 0.45))
            established = min(established, start)
        out.append(
            Subject(
                code,
                name,
                prefix,
                region,
                district,
                sectors,
                profile,
                established,
                start,
                master.getrandbits(64),
            )
        )
    return out


def names(subjects: int = 1200, seed: int = 20261120) -> dict[str, str]:
    """Every demo subject's code → its Chinese name, for the same arguments as
    :func:`generate` (the names the first events' ``data.subject_name`` carry)."""
    return {s.code: s.name for s in _subjects(subjects, seed)}
