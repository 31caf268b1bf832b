"""A realistic, deterministic national data set in the SPEC §8 import formats (seed_national).

At --teachers 200000: the 23 authorities, about 3,900 schools of every stage, some universities,
legal entities and social-education bodies, 200,000 people with service histories (transfers,
retirements, 行政職員), about 4,000,000 hour records of academic year 113 and the school and
teacher plans of 113, most submitted inside the SPEC §6 windows and some outside.

Every number comes from `random.Random(seed)`; nothing depends on hash order, so the same seed
writes the same bytes. Only national IDs with a valid check digit are produced.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from accounts.authorities import AUTHORITIES, AUTHORITY_CODE_BY_NAME
from accounts.models import PLANNING_STAGES
from accounts.national_id import with_check_digit
from core.dataexchange import get_kind

YEAR = 113  # ROC academic year: 2024-08-01 to 2025-07-31
TAIPEI = dt.timezone(dt.timedelta(hours=8), "Asia/Taipei")

# Schools per stage at the national figure of 3,900 schools (roughly Taiwan's mix), with the
# mean number of staff per school.
STAGE_MIX = (
    ("國小", 2630, 34),
    ("國中", 740, 62),
    ("高中", 260, 95),
    ("高職", 150, 90),
    ("特殊教育學校", 28, 70),
    ("幼兒園", 92, 10),
)
NATIONAL_SCHOOLS = sum(n for _, n, _ in STAGE_MIX)
NATIONAL_TEACHERS = 200_000
HOURS_PER_PERSON = 20  # 4,000,000 records for 200,000 people

# Relative size of each county/city (schools follow it); 國教署 runs many 高中/高職 and 特教.
AUTHORITY_WEIGHT = {
    "65000": 16, "63000": 10, "66000": 12, "68000": 9, "67000": 9, "64000": 12, "10002": 4,
    "10004": 3, "10005": 4, "10007": 7, "10008": 4, "10009": 4, "10010": 4, "10013": 6,
    "10014": 3, "10015": 3, "10016": 1, "10017": 2, "10018": 2, "10020": 1, "09020": 1,
    "09007": 1,
}  # fmt: skip
NATIONAL_SHARE = {"高中": 0.45, "高職": 0.6, "特殊教育學校": 0.5}
STAGE_DIGIT = {"國小": "6", "國中": "5", "高中": "3", "高職": "4", "特殊教育學校": "7", "幼兒園": "8"}
STAGE_SUFFIX = {
    "國小": "國民小學",
    "國中": "國民中學",
    "高中": "高級中學",
    "高職": "高級工業職業學校",
    "特殊教育學校": "特殊教育學校",
    "幼兒園": "幼兒園",
}
PLACES = "中正 中山 仁愛 信義 光復 民生 自強 復興 和平 建國 文化 新興 長安 福德 大同 東光 西門 南興 北辰 青山".split()

SURNAMES = (
    "陳林黃張李王吳劉蔡楊許鄭謝郭洪曾邱廖賴周徐蘇葉莊呂江何蕭羅高潘簡朱鍾游彭詹胡施沈余盧梁趙顏柯翁魏孫戴"
)
GIVEN = "怡君雅婷宜芳淑惠美玲家豪志明俊傑建宏冠宇承翰柏翰佳蓉欣怡秀英文雄國華育誠依庭詩涵品妤靜宜嘉玲志偉"
TEACHER_TITLES = ("教師", "教師", "教師", "導師", "專任教師", "教師兼組長", "教師兼主任")
STAFF_TITLES = ("幹事", "組員", "護理師", "會計員", "人事管理員", "技工")
SUBJECTS = {
    "國小": ("國語文", "數學", "自然科學", "社會", "英語文", "健康與體育", "藝術", "綜合活動", "本土語文"),
    "國中": ("國語文", "數學", "自然科學", "社會", "英語文", "健康與體育", "藝術", "綜合活動", "科技"),
    "高中": ("國語文", "數學", "物理", "化學", "生物", "地球科學", "歷史", "地理", "公民與社會", "英語文"),
    "高職": ("國語文", "數學", "英語文", "機械", "電機", "商業與管理", "設計", "餐旅", "資訊"),
    "特殊教育學校": ("特殊需求", "生活管理", "職業教育", "國語文", "數學"),
    "幼兒園": ("幼兒教保",),
}
TOPICS = (
    "素養導向教學設計", "差異化教學", "班級經營實務", "校園安全教育", "性別平等教育", "數位學習工具應用",
    "閱讀理解策略", "特殊教育知能", "生命教育", "環境教育", "資訊安全", "正向管教", "雙語教學",
    "觀課與議課", "學習評量設計", "輔導知能", "防災教育", "食農教育", "人權教育", "AI 與教學",
)  # fmt: skip

# SPEC §6, 113 windows (each from 00:00 of the first day to 17:00 of the last).
SCHOOL_WINDOWS = (
    ((8, 5), (8, 14), "新北市 臺北市 臺中市 桃園市 苗栗縣 彰化縣 南投縣 基隆市 新竹市 國教署"),
    (
        (8, 15),
        (8, 23),
        "臺南市 高雄市 宜蘭縣 新竹縣 雲林縣 嘉義縣 屏東縣 花蓮縣 臺東縣 澎湖縣 嘉義市 金門縣 連江縣",
    ),
)
TEACHER_WINDOWS = (
    ((9, 2), (9, 9), "國教署 澎湖縣 金門縣 連江縣 苗栗縣 花蓮縣"),
    ((9, 5), (9, 12), "新北市 彰化縣 新竹市 宜蘭縣 南投縣"),
    ((9, 11), (9, 16), "臺北市 雲林縣 臺南市 新竹縣"),
    ((9, 18), (9, 24), "臺中市 屏東縣 基隆市 桃園市"),
    ((9, 20), (9, 27), "高雄市 嘉義縣 嘉義市 臺東縣"),
)


def _windows(table) -> dict[str, tuple[dt.datetime, dt.datetime]]:
    out = {}
    for (m1, d1), (m2, d2), names in table:
        start = dt.datetime(2024, m1, d1, 0, 0, tzinfo=TAIPEI)
        end = dt.datetime(2024, m2, d2, 17, 0, tzinfo=TAIPEI)
        for name in names.split():
            out[AUTHORITY_CODE_BY_NAME[name]] = (start, end)
    return out


@dataclass
class School:
    code: str
    authority: str
    stage: str
    size: int
    people: list[int] = field(default_factory=list)


@dataclass
class Summary:
    units: int = 0
    roster: int = 0
    people: int = 0
    transfers: int = 0
    retirements: int = 0
    staff: int = 0
    courses: int = 0
    hours: int = 0
    plans: int = 0
    plans_outside_window: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def _national_id(rng: random.Random, index: int) -> str:
    # index → a unique seven-digit serial (7919 is prime to 10**7, so this is a bijection).
    serial = (index * 7919 + 1234567) % 10_000_000
    letter = "ABCDEFGHJKLMNPQRSTUVXYWZIO"[index % 26]
    return with_check_digit(f"{letter}{rng.choice('12')}{serial:07d}")


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)


def _date_between(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, (end - start).days))


def generate(out: Path, *, teachers: int = NATIONAL_TEACHERS, seed: int = 1) -> Summary:
    """Write units.csv, roster.csv, hours.csv and plans.csv (and manifest.json) into `out`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    # The columns of each file, as the registered kinds import them.
    UNIT_COLUMNS, ROSTER_COLUMNS, HOURS_COLUMNS, PLAN_COLUMNS = (
        get_kind(name).columns for name in ("units", "roster", "hours", "plans")
    )
    rng = random.Random(seed)
    summary = Summary()

    # ---- units
    scale = teachers / NATIONAL_TEACHERS
    authority_codes = [code for code, _ in AUTHORITIES if code != "K12EA"]
    weights = [AUTHORITY_WEIGHT[code] for code in authority_codes]
    schools: list[School] = []
    serials: dict[tuple[str, str], int] = {}
    unit_rows: list[tuple[str, str, str, str, str]] = [(c, n, "authority", "", "") for c, n in AUTHORITIES]
    authority_name = dict(AUTHORITIES)
    for stage, national_count, mean_size in STAGE_MIX:
        count = max(1, round(national_count * scale))
        for _ in range(count):
            if rng.random() < NATIONAL_SHARE.get(stage, 0):
                authority = "K12EA"
            else:
                authority = rng.choices(authority_codes, weights)[0]
            key = (authority, stage)
            serials[key] = serials.get(key, 0) + 1
            prefix = f"{authority_codes.index(authority) + 1:02d}" if authority != "K12EA" else "30"
            code = f"{prefix}{STAGE_DIGIT[stage]}{serials[key]:03d}"
            size = max(3, int(rng.gauss(mean_size, mean_size / 3)))
            schools.append(School(code, authority, stage, size))
            owner = "國立" if authority == "K12EA" else f"{authority_name[authority]}立"
            name = f"{owner}{rng.choice(PLACES)}{STAGE_SUFFIX[stage]}"
            unit_rows.append((code, f"{name}（{code}）", "school", stage, authority))
    others = max(2, round(60 * scale))
    organisers = [s.code for s in schools]
    for i in range(1, others + 1):
        kind = ("university", "legal_entity", "social_edu")[i % 3]
        prefix = {"university": "U", "legal_entity": "L", "social_edu": "S"}[kind]
        code = f"{prefix}{i:04d}"
        label = {"university": "師範大學", "legal_entity": "教育基金會", "social_edu": "社會教育館"}[kind]
        unit_rows.append((code, f"第{i}{label}", kind, "", ""))
        organisers.append(code)
    unit_rows.append(("OP0001", "教師進修網", "operator", "", ""))
    with open(out / "units.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(UNIT_COLUMNS)
        writer.writerows(unit_rows)
    summary.units = len(unit_rows)

    # ---- people and memberships: fill schools in proportion to their size
    total_size = sum(s.size for s in schools)
    cumulative = []
    running = 0
    for s in schools:
        running += s.size
        cumulative.append(running)
    current: list[tuple[str, School, str]] = []  # (national ID, school, category) of those serving
    with open(out / "roster.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(ROSTER_COLUMNS)
        for index in range(teachers):
            nid = _national_id(rng, index)
            name = _name(rng)
            email = "" if rng.random() < 0.1 else f"t{index:06d}@mail.example.edu.tw"
            school = schools[bisect.bisect_right(cumulative, rng.randrange(total_size))]
            staff = school.stage != "幼兒園" and rng.random() < 0.09
            category = "行政職員" if staff else "教師"
            title = rng.choice(STAFF_TITLES if staff else TEACHER_TITLES)
            subjects = (
                ""
                if staff
                else ";".join(
                    sorted(
                        rng.sample(
                            SUBJECTS[school.stage], min(len(SUBJECTS[school.stage]), rng.choice((1, 1, 2)))
                        )
                    )
                )
            )
            start = _date_between(rng, dt.date(1995, 8, 1), dt.date(2024, 8, 1))
            fate = rng.random()
            rows = []
            if fate < 0.08 and start < dt.date(2023, 8, 1):  # transferred in: an ended earlier membership
                before = schools[bisect.bisect_right(cumulative, rng.randrange(total_size))]
                if before.code == school.code:
                    before = schools[(schools.index(school) + 1) % len(schools)]
                moved = _date_between(rng, start + dt.timedelta(days=365), dt.date(2024, 7, 31))
                rows.append((before.code, start, moved - dt.timedelta(days=1)))
                rows.append((school.code, moved, None))
                summary.transfers += 1
            elif fate < 0.11 and start < dt.date(2020, 8, 1):  # retired: ended, no successor
                rows.append(
                    (school.code, start, _date_between(rng, dt.date(2020, 8, 1), dt.date(2024, 7, 31)))
                )
                summary.retirements += 1
            else:
                rows.append((school.code, start, None))
            for unit_code, begin, end in rows:
                writer.writerow(
                    (nid, name, email, unit_code, category, title, subjects, begin.isoformat(),
                     end.isoformat() if end else "")
                )  # fmt: skip
                summary.roster += 1
            if rows[-1][2] is None:
                current.append((nid, school, category))
            summary.staff += staff
    summary.people = teachers

    # ---- courses and hours of 113, written person by person (as an old system exports them)
    first_day, last_day = dt.date(2024, 8, 1), dt.date(2025, 7, 31)
    course_count = max(10, teachers * HOURS_PER_PERSON // 40)
    courses = []
    for i in range(course_count):
        code = f"{YEAR}{i + 1:07d}"
        title = f"{rng.choice(TOPICS)}（第{i % 7 + 1}場）"
        organiser = rng.choice(organisers)
        day = _date_between(rng, first_day, last_day).isoformat()
        hours = rng.choice(("1.0", "1.5", "2.0", "3.0", "3.0", "3.0", "6.0", "12.0", "18.0"))
        courses.append(f"{code},{title},{organiser},{day},{hours}")
    summary.courses = course_count
    per_person = HOURS_PER_PERSON * teachers / max(1, len(current))
    top = round(2 * per_person)
    with open(out / "hours.csv", "w", encoding="utf-8", newline="") as f:
        f.write(",".join(HOURS_COLUMNS) + "\n")
        buffer = []
        for nid, _school, _category in current:
            k = min(rng.randint(0, top), course_count)
            for c in sorted(rng.sample(range(course_count), k)):
                buffer.append(f"{nid},{courses[c]}\n")
            summary.hours += k
            if len(buffer) > 20000:
                f.write("".join(buffer))
                buffer.clear()
        f.write("".join(buffer))
    del courses

    # ---- plans of 113: inside the windows mostly, some late or early
    school_windows, teacher_windows = _windows(SCHOOL_WINDOWS), _windows(TEACHER_WINDOWS)
    with open(out / "plans.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(PLAN_COLUMNS)
        for school in schools:
            if school.stage not in PLANNING_STAGES or rng.random() < 0.08:
                continue
            moment, outside = _submission(rng, school_windows[school.authority], 0.06)
            writer.writerow(("school", school.code, YEAR, moment.isoformat()))
            summary.plans += 1
            summary.plans_outside_window += outside
        for nid, school, category in current:
            if category != "教師" or school.stage not in PLANNING_STAGES or rng.random() < 0.3:
                continue
            moment, outside = _submission(rng, teacher_windows[school.authority], 0.1)
            writer.writerow(("teacher", nid, YEAR, moment.isoformat()))
            summary.plans += 1
            summary.plans_outside_window += outside

    manifest = {
        "teachers": teachers,
        "seed": seed,
        "counts": summary.as_dict(),
        "outside_window_rule": (
            "a plan row is outside its window when submitted_at is before 00:00 of the first day or "
            "after 17:00:00 of the last day of the SPEC §6 113 window of its school's authority"
        ),
    }
    (out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return summary


def _submission(rng: random.Random, window, outside_share: float) -> tuple[dt.datetime, bool]:
    start, end = window
    if rng.random() < outside_share:
        if rng.random() < 0.8:  # late: after the 17:00 deadline, up to two days
            return end + dt.timedelta(seconds=rng.randint(1, 2 * 86400)), True
        return start - dt.timedelta(seconds=rng.randint(1, 3 * 86400)), True
    # Inside, with a peak at the deadline (half of the submissions in the last day).
    span = int((end - start).total_seconds())
    if rng.random() < 0.5:
        return end - dt.timedelta(seconds=rng.randint(0, min(span, 86400))), False
    return start + dt.timedelta(seconds=rng.randint(0, span)), False
