"""Synthetic but plausible residents for demo and benchmark data: names, ages, phones, ID numbers.

Nothing here is real: ID numbers use region 510108 (成华区, Chengdu) with a valid checksum and
sequence numbers that never repeat within one generator; phone numbers are random mobile numbers.
"""

import bisect
import itertools
from datetime import date, timedelta

# Surname frequency (per cent, national figures rounded): the first hundred cover ~85 % of people.
SURNAMES = [
    ("王", 7.25), ("李", 7.19), ("张", 6.92), ("刘", 5.38), ("陈", 4.53), ("杨", 3.08), ("黄", 2.23), ("赵", 2.17),
    ("吴", 2.0), ("周", 1.9), ("徐", 1.45), ("孙", 1.38), ("马", 1.29), ("朱", 1.26), ("胡", 1.16), ("郭", 1.15),
    ("何", 1.12), ("林", 1.01), ("高", 1.0), ("罗", 0.95), ("郑", 0.85), ("梁", 0.83), ("谢", 0.72), ("宋", 0.68),
    ("唐", 0.65), ("许", 0.62), ("韩", 0.6), ("冯", 0.58), ("邓", 0.57), ("曹", 0.56), ("彭", 0.54), ("曾", 0.53),
    ("肖", 0.52), ("田", 0.51), ("董", 0.5), ("袁", 0.48), ("潘", 0.47), ("于", 0.46), ("蒋", 0.46), ("蔡", 0.44),
    ("余", 0.43), ("杜", 0.42), ("叶", 0.41), ("程", 0.4), ("苏", 0.39), ("魏", 0.38), ("吕", 0.37), ("丁", 0.36),
    ("任", 0.35), ("沈", 0.34), ("姚", 0.33), ("卢", 0.32), ("姜", 0.31), ("崔", 0.3), ("钟", 0.3), ("谭", 0.29),
    ("陆", 0.28), ("汪", 0.27), ("范", 0.27), ("金", 0.26), ("石", 0.25), ("廖", 0.25), ("贾", 0.24), ("夏", 0.23),
    ("韦", 0.22), ("付", 0.22), ("方", 0.21), ("白", 0.2), ("邹", 0.2), ("孟", 0.19), ("熊", 0.19), ("秦", 0.18),
    ("邱", 0.18), ("江", 0.17), ("尹", 0.17), ("薛", 0.16), ("闫", 0.16), ("段", 0.15), ("雷", 0.15), ("侯", 0.14),
    ("龙", 0.14), ("史", 0.13), ("陶", 0.13), ("黎", 0.12), ("贺", 0.12), ("顾", 0.11), ("毛", 0.11), ("郝", 0.1),
    ("龚", 0.1), ("邵", 0.1), ("万", 0.09), ("钱", 0.09), ("严", 0.09), ("覃", 0.08), ("武", 0.08), ("戴", 0.08),
    ("莫", 0.07), ("孔", 0.07), ("向", 0.07), ("汤", 0.07), ("欧阳", 0.03), ("司马", 0.01),
]

# Given names follow fashions: (whole names, first characters, second characters) per generation and gender.
GIVEN = {
    ("old", "male"): ("建国 国华 志强 德明 文华 树林 永福 国庆 建华 明德 长富 玉林 世荣 光明 德胜 宝山 福贵 少华 文斌 志明",
                      "建 国 志 德 文 永 长 玉 世 光 福 学 少 金 树 兴 家", "国 华 明 强 林 福 荣 胜 山 才 贵 发 生 成 全 云 军"),
    ("old", "female"): ("秀英 桂兰 玉兰 淑珍 秀兰 桂英 玉珍 凤英 素芬 秀珍 翠花 桂芳 玉梅 淑华 秀芳 兰英 素珍 桂珍 玉华",
                        "秀 桂 玉 淑 凤 素 翠 兰 金 春 美 惠", "英 兰 珍 芬 花 芳 梅 华 琴 贞 清 蓉 香 莲 娥"),
    ("mid", "male"): ("伟 强 磊 军 勇 杰 涛 斌 超 明 刚 平 辉 鹏 华 飞 鑫 波 建华 志刚 海涛 建军 晓东 小龙 俊杰 文斌",
                      "建 志 海 晓 小 俊 文 永 国 明 宏 振 立 红 春 剑", "华 刚 涛 军 东 龙 杰 斌 伟 强 林 峰 平 波 兵 勇 宇"),
    ("mid", "female"): ("丽 静 敏 燕 艳 娟 霞 芳 婷 玲 红 琴 莉 丽娟 晓燕 秀梅 春梅 海燕 雪梅 小红 丽华 晓丽",
                        "丽 晓 秀 春 海 雪 小 红 玉 美 慧 文 亚 丹", "娟 燕 梅 红 华 丽 芳 霞 玲 琴 萍 敏 静 莉 艳 英"),
    ("young", "male"): ("浩然 子轩 宇航 俊熙 梓豪 一鸣 博文 皓轩 浩宇 宇轩 子墨 思远 天佑 晨阳 佳豪 泽宇 锦程 睿 铭 翔",
                        "浩 子 宇 俊 梓 博 皓 思 天 晨 佳 泽 锦 嘉 明 一 昊", "然 轩 航 熙 豪 鸣 文 宇 墨 远 佑 阳 程 睿 铭 辰 杰"),
    ("young", "female"): ("子涵 欣怡 梓涵 诗涵 雨桐 可欣 一诺 紫萱 梦瑶 佳怡 思彤 若曦 雨涵 梓萱 欣妍 婉清 心怡 雅琪",
                          "子 欣 梓 诗 雨 可 一 紫 梦 佳 思 若 婉 心 雅 语 依", "涵 怡 桐 欣 诺 萱 瑶 彤 曦 妍 清 琪 宁 然 晴 悦 琳"),
}
GIVEN = {k: tuple(part.split() for part in v) for k, v in GIVEN.items()}

# Age pyramid of an old inner-city community (share per five-year band, 0–4 … 95–99); about 23 % are 60+.
AGE_BANDS = [4.0, 4.5, 4.5, 4.0, 5.0, 7.0, 8.5, 7.5, 7.0, 8.0, 8.5, 7.5, 6.5, 6.0, 4.5, 3.0, 2.0, 1.2, 0.5, 0.15]

MOBILE_PREFIXES = ("130 131 132 133 135 136 137 138 139 150 151 152 153 155 157 158 159 166 173 177 180 181 "
                   "182 183 185 186 187 188 189 191 198 199").split()

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
# Synthetic region codes: 510108 first, the others only when one birth date runs out of sequence numbers.
REGIONS = ("510108", "510104", "510105", "510106", "510107", "510112", "510113", "510114")


def id_checksum(first17: str) -> str:
    return ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def valid_id_number(value: str) -> bool:
    """An 18-character mainland resident ID number with a correct checksum and a real birth date."""
    if len(value) != 18 or not value[:17].isdigit() or value[17] not in "0123456789X":
        return False
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return id_checksum(value[:17]) == value[17]


def _cumulative(weights):
    return list(itertools.accumulate(weights))


class PeopleGenerator:
    """Draws people from a seeded random generator so two runs produce the same community."""

    def __init__(self, rng, today: date, regions=REGIONS):
        self.rng = rng
        self.today = today
        self.regions = regions
        self._surnames = [s for s, _ in SURNAMES]
        self._surname_cum = _cumulative(w for _, w in SURNAMES)
        self._band_cum = _cumulative(AGE_BANDS)
        self._sequence: dict = {}

    # names ------------------------------------------------------------------------------
    def surname(self) -> str:
        r = self.rng.random() * self._surname_cum[-1]
        return self._surnames[bisect.bisect(self._surname_cum, r)]

    def given_name(self, gender: str, birth_year: int) -> str:
        era = "old" if birth_year < 1962 else "mid" if birth_year < 1990 else "young"
        whole, firsts, seconds = GIVEN[(era, gender)]
        r = self.rng.random()
        if r < 0.3:
            return self.rng.choice(whole)
        if r < 0.42:
            return self.rng.choice(seconds)
        return self.rng.choice(firsts) + self.rng.choice(seconds)

    def name(self, gender: str, birth_year: int, surname: str | None = None) -> str:
        return (surname or self.surname()) + self.given_name(gender, birth_year)

    # ages --------------------------------------------------------------------------------
    def age(self, minimum: int = 0, maximum: int = 99) -> int:
        lo = self._band_cum[minimum // 5 - 1] if minimum >= 5 else 0.0
        hi = self._band_cum[min(maximum // 5, len(AGE_BANDS) - 1)]
        while True:
            r = lo + self.rng.random() * (hi - lo)
            band = bisect.bisect(self._band_cum, r)
            age = band * 5 + self.rng.randrange(5)
            if minimum <= age <= maximum:
                return age

    def birth_date(self, age: int) -> date:
        # Born between (age + 1) years and age years ago.
        end = self.today.replace(month=1, day=1) if (self.today.month, self.today.day) == (2, 29) else self.today
        latest = end.replace(year=end.year - age)
        return latest - timedelta(days=self.rng.randrange(365))

    # numbers -----------------------------------------------------------------------------
    def id_number(self, birth: date, gender: str) -> str:
        key = (birth, gender)
        n = self._sequence.get(key, 0)
        self._sequence[key] = n + 1
        region = self.regions[min(n // 500, len(self.regions) - 1)]
        seq = (n % 500) * 2 + (1 if gender == "male" else 0)  # the 17th digit is odd for men
        first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
        return first17 + id_checksum(first17)

    def phone(self) -> str:
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10 ** 8):08d}"

    def gender(self) -> str:
        return "male" if self.rng.random() < 0.49 else "female"


CN_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 12 → 十二, 20 → 二十, 117 → 一百一十七 (enough for grid names)."""
    if n < 10:
        return CN_DIGITS[n]
    if n < 20:
        return "十" + (CN_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return CN_DIGITS[n // 10] + "十" + (CN_DIGITS[n % 10] if n % 10 else "")
    rest = n % 100
    head = CN_DIGITS[n // 100] + "百"
    if not rest:
        return head
    return head + ("零" + CN_DIGITS[rest] if rest < 10 else CN_DIGITS[rest // 10] + "十" + (CN_DIGITS[rest % 10] if rest % 10 else ""))
