"""The 任教科目 reference lists shipped per stage (the 108 curriculum's 領域/科目 names).

Read by migration 0005 (data) and by the demo; a subject named by several stages is one row
whose `stages` lists them all.
"""

SUBJECTS_BY_STAGE: dict[str, tuple[str, ...]] = {
    "幼兒園": ("幼兒教保", "身體動作與健康", "認知", "語文", "社會", "情緒", "美感"),
    "國小": (
        "國語文", "本土語文", "新住民語文", "英語文", "數學", "社會", "自然科學", "藝術",
        "綜合活動", "健康與體育", "生活課程", "科技", "特殊需求",
    ),
    "國中": (
        "國語文", "本土語文", "新住民語文", "英語文", "數學", "社會", "歷史", "地理", "公民與社會",
        "自然科學", "生物", "理化", "地球科學", "藝術", "音樂", "視覺藝術", "表演藝術", "綜合活動",
        "家政", "童軍", "輔導", "科技", "資訊科技", "生活科技", "健康與體育", "健康教育", "體育",
        "特殊需求",
    ),
    "高中": (
        "國語文", "英語文", "第二外國語文", "數學", "歷史", "地理", "公民與社會", "物理", "化學",
        "生物", "地球科學", "音樂", "美術", "藝術生活", "生命教育", "生涯規劃", "家政",
        "資訊科技", "生活科技", "健康與護理", "體育", "全民國防教育", "特殊需求",
    ),
    "高職": (
        "國語文", "英語文", "數學", "社會", "自然科學", "藝術", "綜合活動", "科技", "健康與體育",
        "全民國防教育", "機械", "電機", "商業與管理", "設計", "餐旅", "資訊", "農業", "家政群",
        "特殊需求",
    ),
    "特殊教育學校": (
        "國語文", "數學", "生活管理", "社會技巧", "職業教育", "特殊需求", "溝通訓練",
        "功能性動作訓練", "定向行動", "點字", "輔助科技應用",
    ),
}  # fmt: skip


def stages_by_subject() -> dict[str, str]:
    result: dict[str, list[str]] = {}
    for stage, names in SUBJECTS_BY_STAGE.items():
        for name in names:
            result.setdefault(name, []).append(stage)
    return {name: ",".join(stages) for name, stages in result.items()}


def ensure_reference_subjects() -> None:
    """Create or update the reference lists (the demo calls it: a test database flush drops migration data)."""
    from teachers.models import Subject  # migration 0005 imports this module: no model at its top

    for name, stages in stages_by_subject().items():
        Subject.objects.update_or_create(name=name, defaults={"stages": stages})
