"""SPEC §8 kind `units`: units and authorities, keyed by code.

A units file is small by nature (a few thousand rows nationally), so its rows are held in memory
after streaming; the checks and the merge go through the ORM in one transaction.
"""

from __future__ import annotations

from pathlib import Path

from django.db import transaction

from accounts import national_id
from accounts.models import Stage, Unit, UnitKind
from core.dataexchange import (
    ErrorList,
    Table,
    TableWriter,
    at,
    control_characters,
    refuse_if,
    text_problem,
)

COLUMNS = ("code", "name", "kind", "stage", "authority_code")

MSG_UNKNOWN_KIND = "kind 不是有效的單位類別"
MSG_UNKNOWN_STAGE = "stage 不是有效的教育階段"
MSG_SCHOOL_NEEDS_STAGE = "學校須填 stage"
MSG_STAGE_ONLY_FOR_SCHOOLS = "只有學校可填 stage"
MSG_SCHOOL_NEEDS_AUTHORITY = "學校須填 authority_code"
MSG_UNKNOWN_AUTHORITY = "authority_code 不是已知的主管機關"
MSG_AUTHORITY_HAS_AUTHORITY = "主管機關不可填 authority_code"
MSG_DUPLICATE_CODE = "code 與{at}重複"
MSG_KIND_CHANGED = "code 已存在且類別不同，不可變更單位類別"

# National IDs in any kind's file. The message never repeats the number (SPEC §9).
MSG_NATIONAL_ID_REQUIRED = "national_id 不可空白"
MSG_NATIONAL_ID_FORMAT = "身分證字號格式不正確"
MSG_NATIONAL_ID_CHECKSUM = "身分證字號檢查碼不正確"

KINDS = set(UnitKind.values)
STAGES = set(Stage.values)


def check_national_id(value: str) -> tuple[str, str | None]:
    """(normalised ID, None) when valid, else (normalised ID, the row error to report)."""
    value = national_id.normalize(value)
    if not value:
        return value, MSG_NATIONAL_ID_REQUIRED
    if not (national_id.NATIONAL_ID_RE.match(value) or national_id.OLD_RESIDENT_RE.match(value)):
        return value, MSG_NATIONAL_ID_FORMAT
    if not national_id.is_valid(value):
        return value, MSG_NATIONAL_ID_CHECKSUM
    return value, None


def import_units(path: Path) -> dict[str, int]:
    table = Table(path, COLUMNS)
    errors: ErrorList = table.errors
    rows: dict[str, tuple[int, str, str, str, str]] = {}
    for line, (code, name, kind, stage, authority_code) in table.rows():
        code, name, kind, stage, authority_code = (
            code.strip(),
            name.strip(),
            kind.strip(),
            stage.strip(),
            authority_code.strip(),
        )
        ok = True
        if problem := control_characters(code=code, name=name):
            errors.add(line, problem)
            ok = False
        for problem in (text_problem("code", code, 10), text_problem("name", name, 100)):
            if problem:
                errors.add(line, problem)
                ok = False
        if kind not in KINDS:
            errors.add(line, MSG_UNKNOWN_KIND)
            ok = False
        elif kind == UnitKind.SCHOOL:
            if not stage:
                errors.add(line, MSG_SCHOOL_NEEDS_STAGE)
                ok = False
            elif stage not in STAGES:
                errors.add(line, MSG_UNKNOWN_STAGE)
                ok = False
            if not authority_code:
                errors.add(line, MSG_SCHOOL_NEEDS_AUTHORITY)
                ok = False
        else:
            if stage:
                errors.add(line, MSG_STAGE_ONLY_FOR_SCHOOLS)
                ok = False
            if kind == UnitKind.AUTHORITY and authority_code:
                errors.add(line, MSG_AUTHORITY_HAS_AUTHORITY)
                ok = False
        if code and code in rows:
            errors.add(line, MSG_DUPLICATE_CODE.format(at=at(rows[code][0])))
            continue
        if ok:
            rows[code] = (line, name, kind, stage, authority_code)

    existing = {unit.code: unit for unit in Unit.objects.filter(code__in=list(rows))}
    authority_codes = set(Unit.objects.authorities().values_list("code", flat=True))
    authority_codes.update(code for code, row in rows.items() if row[2] == UnitKind.AUTHORITY)
    for code, (line, _name, kind, _stage, authority_code) in rows.items():
        if code in existing and existing[code].kind != kind:
            errors.add(line, MSG_KIND_CHANGED)
        if authority_code and authority_code not in authority_codes:
            errors.add(line, MSG_UNKNOWN_AUTHORITY)
    refuse_if(errors)

    counts = {"created": 0, "updated": 0, "unchanged": 0}
    with transaction.atomic():
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
