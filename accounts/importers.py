"""SPEC §8 kind `units`: units and authorities, keyed by code.

A units file is small by nature (a few thousand rows nationally), so its rows are held in memory
after streaming; the checks and the merge go through the ORM in the import's transaction.
"""

from __future__ import annotations

from pathlib import Path

from accounts.models import Stage, Unit, UnitKind
from core.dataexchange import ImportRun, Kind, LeadingZeros, Table, TableWriter, at
from core.validation import Problem, check_text, problems

COLUMNS = ("code", "name", "kind", "stage", "authority_code")
COUNT_LABELS = {"created": "新增單位", "updated": "更新單位", "unchanged": "未變動單位"}

MSG_UNKNOWN_KIND = "kind 不是有效的單位類別"
MSG_UNKNOWN_STAGE = "stage 不是有效的教育階段"
MSG_SCHOOL_NEEDS_STAGE = "學校須填 stage"
MSG_STAGE_ONLY_FOR_SCHOOLS = "只有學校可填 stage"
MSG_SCHOOL_NEEDS_AUTHORITY = "學校須填 authority_code"
MSG_UNKNOWN_AUTHORITY = "authority_code 不是已知的主管機關"
MSG_AUTHORITY_HAS_AUTHORITY = "主管機關不可填 authority_code"
MSG_DUPLICATE_CODE = "code 與{at}重複"
MSG_KIND_CHANGED = "code 已存在且類別不同，不可變更單位類別"
MSG_SAME_UNIT_OTHER_CODE = (
    "name、kind、authority_code 與既有單位 {known} 相同，code 卻不同：可能是試算表（Excel、LibreOffice）"
    "去掉了代碼開頭的 0，或同一單位被登錄成兩個代碼。若是同一單位，請沿用代碼 {known}"
)

KINDS = set(UnitKind.values)
STAGES = set(Stage.values)
CODE_LENGTH = Unit._meta.get_field("code").max_length
NAME_LENGTH = Unit._meta.get_field("name").max_length


def _check_kind(kind: str, stage: str, authority_code: str) -> list[Problem]:
    """The unit-kind rules of one row (the database's check constraints say the same)."""
    if kind not in KINDS:
        return [Problem(MSG_UNKNOWN_KIND)]
    found = []
    if kind == UnitKind.SCHOOL:
        if not stage:
            found.append(Problem(MSG_SCHOOL_NEEDS_STAGE))
        elif stage not in STAGES:
            found.append(Problem(MSG_UNKNOWN_STAGE))
        if not authority_code:
            found.append(Problem(MSG_SCHOOL_NEEDS_AUTHORITY))
    else:
        if stage:
            found.append(Problem(MSG_STAGE_ONLY_FOR_SCHOOLS))
        if kind == UnitKind.AUTHORITY and authority_code:
            found.append(Problem(MSG_AUTHORITY_HAS_AUTHORITY))
    return found


def import_units(run: ImportRun, table: Table) -> dict[str, int]:
    """A units file is small by nature: rows are held in memory, checked, merged by the ORM."""
    errors = run.errors
    unescape = table.unescape
    rows: dict[str, tuple[int, str, str, str, str]] = {}
    for line, values in table.rows():
        code, name, kind, stage, authority_code = (unescape(v.strip()) for v in values)
        code = check_text(code, "code", CODE_LENGTH)
        name = check_text(name, "name", NAME_LENGTH)
        authority_code = check_text(authority_code, "authority_code", CODE_LENGTH, required=False)
        found = problems(code, name, authority_code)
        found += _check_kind(kind, stage, "" if authority_code.__class__ is Problem else authority_code)
        errors.add_all(line, found)
        if code.__class__ is str and code in rows:
            errors.add(line, MSG_DUPLICATE_CODE.format(at=at(rows[code][0])))
        elif not found:
            rows[code] = (line, name, kind, stage, authority_code)

    existing = {unit.code: unit for unit in Unit.objects.filter(code__in=list(rows))}
    # Every unit, small nationally: what a new code may be a spreadsheet's copy of.
    known = list(Unit.objects.values_list("code", "name", "kind", "authority__code"))
    zeros = LeadingZeros([code for code, *_rest in known] + list(rows))
    by_identity = {(name, kind, authority or ""): code for code, name, kind, authority in known}
    db_authorities = set(Unit.objects.authorities().values_list("code", flat=True))
    authority_codes = db_authorities | {code for code, row in rows.items() if row[2] == UnitKind.AUTHORITY}
    for code, (line, name, kind, _stage, authority_code) in rows.items():
        if code in existing:
            if existing[code].kind != kind:
                errors.add(line, MSG_KIND_CHANGED)
        elif lost := zeros.problem("code", code):
            errors.add(line, lost)
        elif (same := by_identity.get((name, kind, authority_code))) is not None:
            errors.add(line, MSG_SAME_UNIT_OTHER_CODE.format(known=same))
        if (
            authority_code
            and authority_code not in db_authorities
            and (lost := zeros.problem("authority_code", authority_code))
        ):
            errors.add(line, lost)
        elif authority_code and authority_code not in authority_codes:
            errors.add(line, MSG_UNKNOWN_AUTHORITY)
    run.refuse_if_errors()

    counts = {"created": 0, "updated": 0, "unchanged": 0}
    # Authorities first: schools in the same file may point at a new one.
    ordered = sorted(rows.items(), key=lambda item: item[1][2] != UnitKind.AUTHORITY)
    by_code = {u.code: u for u in Unit.objects.authorities()}
    new_units: list[Unit] = []
    changed: list[Unit] = []
    for code, (_line, name, kind, stage, authority_code) in ordered:
        authority = by_code.get(authority_code) if authority_code else None
        unit = existing.get(code)
        if unit is None:
            unit = Unit(code=code, name=name, kind=kind, stage=stage, authority=authority)
            if kind == UnitKind.AUTHORITY:
                unit.save()
                by_code[code] = unit
                counts["created"] += 1
            else:
                new_units.append(unit)
            continue
        if (unit.name, unit.stage, unit.authority_id) != (
            name,
            stage,
            authority.pk if authority else None,
        ):
            unit.name, unit.stage, unit.authority = name, stage, authority
            changed.append(unit)
        else:
            counts["unchanged"] += 1
    Unit.objects.bulk_create(new_units, batch_size=1000)
    Unit.objects.bulk_update(changed, ["name", "stage", "authority"], batch_size=1000)
    counts["created"] += len(new_units)
    counts["updated"] = len(changed)
    return counts


def export_units(path: Path) -> int:
    units = Unit.objects.order_by("code").values_list("code", "name", "kind", "stage", "authority__code")
    with TableWriter(path, COLUMNS) as out:
        for code, name, kind, stage, authority_code in units.iterator(chunk_size=2000):
            out.write((code, name, kind, stage, authority_code or ""))
    return out.count


KIND = Kind(
    name="units",
    label="單位",
    columns=COLUMNS,
    import_rows=import_units,
    export=export_units,
    count_labels=COUNT_LABELS,
    order=10,
    changed_tables=(Unit._meta.db_table,),
)
