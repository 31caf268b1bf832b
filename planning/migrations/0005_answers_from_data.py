"""Move whatever a plan's JSON `data` held into answer rows, before the column goes (issue 12, point 3).

The `plans` import stored only the 確認送出 time and an empty object; a plan written otherwise may
hold {"mode": ["non_credit", ...], ...}. Unknown questions or options are dropped, not guessed.
"""

from django.db import migrations

# Frozen copy of planning.choices at the time of this migration.
KNOWN = {
    "mode": {"non_credit", "credit_bachelor", "credit_master"},
    "time": {"weekday_day", "weekday_evening", "saturday", "sunday", "summer", "winter"},
    "place": {
        "own_school",
        "nearby_school",
        "institute",
        "teacher_university",
        "online",
        "other_university",
        "social",
    },
    "level": {"basic", "advanced", "leading", "research"},
    "method": {"lecture", "forum", "workshop", "visit", "observation", "digital"},
    "domain": {"curriculum", "guidance", "professional", "policy", "leadership", "literacy"},
}


def _rows(data):
    if not isinstance(data, dict):
        return
    for question, options in data.items():
        if question in KNOWN and isinstance(options, list):
            for option in dict.fromkeys(options):
                if option in KNOWN[question]:
                    yield question, option


def forwards(apps, schema_editor):
    for plan_model, answer_model in (("SchoolPlan", "SchoolPlanAnswer"), ("TeacherPlan", "TeacherPlanAnswer")):
        Plan = apps.get_model("planning", plan_model)
        Answer = apps.get_model("planning", answer_model)
        batch = []
        for plan in Plan.objects.exclude(data={}).only("pk", "data").iterator(chunk_size=2000):
            batch += [Answer(plan_id=plan.pk, question=q, option=o) for q, o in _rows(plan.data)]
            if len(batch) >= 5000:
                Answer.objects.bulk_create(batch, ignore_conflicts=True)
                batch = []
        Answer.objects.bulk_create(batch, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("planning", "0004_plan_answers_snapshot_survey")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
