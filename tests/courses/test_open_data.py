"""The course catalogue as open data (issue 23 point 5): the columns, no personal data, paging,
ETag and 304, public caching, the licence named, and only public courses."""

import csv
import io
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from courses import opendata
from courses.models import Course, CourseStatus, Enrolment, EnrolmentStatus, Tag
from tests.conftest import make_teacher

pytestmark = pytest.mark.django_db

JSON = "/api/open-data/courses.json"
CSV = "/api/open-data/courses.csv"
NAMES = [name for name, _description in opendata.COLUMNS]


def course(unit, code, status=CourseStatus.OPEN, **fields) -> Course:
    return Course.objects.create(
        code=code,
        title=f"公開課程{code}",
        organiser=unit,
        authority=unit.authority,
        hours=Decimal("3"),
        status=status,
        **fields,
    )


def rows_of_csv(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_the_json_and_the_csv_carry_the_documented_columns(school):
    made = course(school, "C0001", capacity=2, place="視聽教室", domain="literacy")
    made.tags.add(Tag.objects.get_or_create(name="安全教育")[0])
    made.audience_stages.create(stage="國小")
    teacher = make_teacher(school)
    Enrolment.objects.create(
        course=made, person=teacher.person, status=EnrolmentStatus.ADMITTED, applied_at=timezone.now()
    )

    body = Client().get(JSON).json()
    assert list(body["results"][0]) == NAMES
    row = body["results"][0]
    assert (row["code"], row["organiser"], row["organiser_code"]) == ("C0001", school.name, school.code)
    assert (row["hours"], row["capacity"], row["seats_left"]) == (3.0, 2, 1)
    assert (row["tags"], row["audience_stages"], row["domain_label"]) == (
        ["安全教育"],
        ["國小"],
        "實用知能與生活素養",
    )
    assert row["url"] == "http://testserver/courses/C0001/"

    rows = rows_of_csv(Client().get(CSV))
    assert rows[0] == NAMES
    assert dict(zip(NAMES, rows[1], strict=True))["tags"] == "安全教育"
    assert dict(zip(NAMES, rows[1], strict=True))["seats_left"] == "1"


def test_no_personal_data_leaves_in_the_catalogue(school):
    made = course(
        school,
        "C0002",
        contact_name="王大明",
        contact_phone="02-12345678",
        contact_email="wang@school.example",
    )
    teacher = make_teacher(school)
    Enrolment.objects.create(
        course=made, person=teacher.person, status=EnrolmentStatus.ADMITTED, applied_at=timezone.now()
    )
    for url in (JSON, CSV):
        text = Client().get(url).content.decode()
        for secret in (
            "王大明",
            "02-12345678",
            "wang@school.example",
            teacher.person.name,
            teacher.person.masked_name,
        ):
            assert secret not in text, (url, secret)
        assert "@" not in text
        assert not re.search(r"[A-Z][1289]\d{8}", text)  # no national ID or resident number
        assert "contact" not in text and "registered_by" not in text and "number" not in text


def test_only_public_courses_are_in_the_catalogue(school):
    for code, status in (
        ("P1", CourseStatus.OPEN),
        ("P2", CourseStatus.CLOSED),
        ("P3", CourseStatus.CONFIRMED),
    ):
        course(school, code, status)
    course(school, "X1", CourseStatus.CANCELLED)
    course(school, "X2", CourseStatus.REGISTERING)
    course(school, None, CourseStatus.REGISTERING)
    body = Client().get(JSON).json()
    assert [row["code"] for row in body["results"]] == ["P1", "P2", "P3"]
    assert body["total"] == 3
    assert [row[0] for row in rows_of_csv(Client().get(CSV))[1:]] == ["P1", "P2", "P3"]


def test_the_catalogue_is_paged_in_code_order(school):
    for code in ("B2", "A1", "C3"):
        course(school, code)
    first = Client().get(JSON, {"page_size": 2}).json()
    assert [row["code"] for row in first["results"]] == ["A1", "B2"]
    assert (first["page"], first["pages"], first["total"], first["previous"]) == (1, 2, 3, None)
    assert first["next"] == "http://testserver/api/open-data/courses.json?page=2&page_size=2"
    second = Client().get(JSON, {"page": 2, "page_size": 2}).json()
    assert [row["code"] for row in second["results"]] == ["C3"]
    assert second["next"] is None and second["previous"].endswith("?page=1&page_size=2")
    assert Client().get(JSON, {"page": 9, "page_size": 2}).json()["results"] == []
    csv_page = Client().get(CSV, {"page": 2, "page_size": 2})
    assert [row[0] for row in rows_of_csv(csv_page)[1:]] == ["C3"]
    assert '<http://testserver/api/open-data/courses.csv?page=1&page_size=2>; rel="prev"' in csv_page["Link"]
    too_big = Client().get(JSON, {"page_size": opendata.MAX_PAGE_SIZE + 1})
    assert too_big.status_code == 422 and too_big.json()["code"] == "invalid_request"


@pytest.mark.parametrize("url", [JSON, CSV])
def test_an_unchanged_page_answers_304_to_its_etag_and_a_change_gives_a_new_one(school, url):
    course(school, "E1")
    first = Client().get(url)
    assert first.status_code == 200
    etag = first["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    cache = {part.strip() for part in first["Cache-Control"].split(",")}
    assert cache == {"public", f"max-age={opendata.MAX_AGE}"}
    again = Client().get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    assert Client().get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    Course.objects.filter(code="E1").update(title="改過的名稱")
    changed = Client().get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_the_licence_is_named_in_the_data_the_headers_and_the_openapi_document(school):
    course(school, "L1")
    body = Client().get(JSON).json()
    assert body["licence"] == {"name": "政府資料開放授權條款－第1版", "url": "https://data.gov.tw/license"}
    assert body["schema_url"] == "http://testserver/api/openapi.json"
    assert '<https://data.gov.tw/license>; rel="license"' in Client().get(CSV)["Link"]
    document = Client().get("/api/openapi.json").json()
    assert "/api/open-data/courses.json" in document["paths"] and "/api/partner/hours" in document["paths"]
    assert "政府資料開放授權條款" in document["paths"]["/api/open-data/courses.csv"]["get"]["description"]
    assert set(document["components"]["schemas"]["CatalogueCourse"]["properties"]) == set(NAMES)
    # The document at the partner API's first address is the same one.
    assert Client().get("/api/partner/openapi.json").json() == document


def test_the_catalogue_reads_from_the_replica_alias(monkeypatch, school):
    course(school, "R1")
    asked = []
    monkeypatch.setattr(opendata, "read_alias", lambda: asked.append(True) or "default")
    assert Client().get(JSON).json()["total"] == 1
    assert asked


def test_the_open_data_page_documents_every_column_and_names_the_licence():
    page = Client().get("/open-data/").content.decode()
    for name, description in opendata.COLUMNS:
        assert f"<code>{name}</code></th><td" in page and description in page
    assert '<a href="https://data.gov.tw/license">政府資料開放授權條款－第1版</a>' in page
    assert 'href="/open-data/"' in Client().get("/courses/").content.decode()


@pytest.mark.parametrize("url", [JSON, CSV])
def test_the_catalogue_is_throttled_per_client_with_retry_after_in_the_problem_shape(settings, school, url):
    from courses import api

    settings.OPEN_DATA_RATE_PER_MINUTE = 3
    course(school, "T001")
    harvester = Client(REMOTE_ADDR="10.8.0.1")
    responses = [harvester.get(url) for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    refused = responses[3]
    assert refused["Content-Type"].startswith("application/json")
    assert refused.json() == {
        "code": "too_many_requests",
        "detail": "呼叫次數超過限制，請稍後再試",
        "errors": [],
    }
    assert 1 <= int(refused["Retry-After"]) <= 60
    # The other format shares the limit; another client has its own.
    assert harvester.get(CSV if url == JSON else JSON).status_code == 429
    assert Client(REMOTE_ADDR="10.8.0.2").get(url).status_code == 200
    assert api.OPEN_DATA_RATE_PER_MINUTE == 60
