"""The 113 planning schedule of the notice (attachment 三), as data the operator can edit in the admin."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.db import migrations

TAIPEI = ZoneInfo("Asia/Taipei")

SCHOOL_WINDOWS = (
    ((2024, 8, 5), (2024, 8, 14), "新北市 臺北市 臺中市 桃園市 苗栗縣 彰化縣 南投縣 基隆市 新竹市 國教署"),
    (
        (2024, 8, 15),
        (2024, 8, 23),
        "臺南市 高雄市 宜蘭縣 新竹縣 雲林縣 嘉義縣 屏東縣 花蓮縣 臺東縣 澎湖縣 嘉義市 金門縣 連江縣",
    ),
)
TEACHER_WINDOWS = (
    (1, (2024, 9, 2), (2024, 9, 9), "國教署 澎湖縣 金門縣 連江縣 苗栗縣 花蓮縣"),
    (2, (2024, 9, 5), (2024, 9, 12), "新北市 彰化縣 新竹市 宜蘭縣 南投縣"),
    (3, (2024, 9, 11), (2024, 9, 16), "臺北市 雲林縣 臺南市 新竹縣"),
    (4, (2024, 9, 18), (2024, 9, 24), "臺中市 屏東縣 基隆市 桃園市"),
    (5, (2024, 9, 20), (2024, 9, 27), "高雄市 嘉義縣 嘉義市 臺東縣"),
)


def add_113(apps, schema_editor):
    Unit = apps.get_model("accounts", "Unit")
    PlanningCycle = apps.get_model("planning", "PlanningCycle")
    PlanningWindow = apps.get_model("planning", "PlanningWindow")
    by_name = {unit.name: unit for unit in Unit.objects.filter(kind="authority")}
    by_name["國教署"] = by_name.get("教育部國民及學前教育署")
    cycle = PlanningCycle.objects.create(
        year=113,
        roster_cutoff=dt.datetime(2024, 8, 2, 17, 0, tzinfo=TAIPEI),
        stages=["國小", "國中", "高中", "高職", "特殊教育學校"],
    )
    rows = [("school", None, first, last, names) for first, last, names in SCHOOL_WINDOWS]
    rows += [("teacher", phase, first, last, names) for phase, first, last, names in TEACHER_WINDOWS]
    for kind, phase, first, last, names in rows:
        for name in names.split():
            PlanningWindow.objects.create(
                cycle=cycle,
                kind=kind,
                phase=phase,
                authority=by_name[name],
                first_day=dt.date(*first),
                last_day=dt.date(*last),
            )


def remove_113(apps, schema_editor):
    apps.get_model("planning", "PlanningCycle").objects.filter(year=113).delete()


class Migration(migrations.Migration):
    dependencies = [("planning", "0002_planning_cycles_and_windows"), ("accounts", "0002_authorities")]

    operations = [migrations.RunPython(add_113, remove_113)]
