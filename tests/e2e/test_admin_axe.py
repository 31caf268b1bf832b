"""Every admin page the operator can open passes axe (issue 20 point 9): each registered model's list,
add form, first object's change form and history, walked from the registry so a new admin is checked
too. Cycles and windows are no longer here (進修規劃年度 in the portal, tests/e2e/test_cycles.py)."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import NoReverseMatch, reverse
from playwright.sync_api import expect

from inservice.demo import DEMO_TOTP_SECRET
from tests.e2e.conftest import WCAG_TAGS, enter_totp_code, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def admin_paths() -> list[str]:
    paths = ["/admin/"]
    for model in admin.site._registry:
        app, name = model._meta.app_label, model._meta.model_name
        paths += [reverse(f"admin:{app}_{name}_changelist"), reverse(f"admin:{app}_{name}_add")]
        obj = model._default_manager.order_by("pk").first()
        if obj is not None:
            for view in ("change", "history"):
                try:
                    paths.append(reverse(f"admin:{app}_{name}_{view}", args=[obj.pk]))
                except NoReverseMatch:
                    pass
    return paths


def test_every_admin_page_the_operator_opens_passes_axe(page):
    call_command("seed_demo")
    operator = get_user_model().objects.get(username="operator1")
    client = Client()
    client.force_login(operator)
    # Only the pages the operator may open (a refused add form is not a page the operator uses).
    paths = [path for path in admin_paths() if client.get(path).status_code == 200]
    assert len(paths) > 40

    sign_in(page, "operator1")
    enter_totp_code(page, DEMO_TOTP_SECRET)
    expect(page.get_by_role("navigation", name="主選單")).to_be_visible()
    failures = {}
    for path in paths:
        page.goto(path)
        violations = page.evaluate(
            """async (tags) => {
                const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
                return result.violations.map(v => `${v.id}: ${v.nodes.slice(0, 3).map(n => n.target.join(' '))}`);
            }""",
            WCAG_TAGS,
        )
        if violations:
            failures[path] = violations
    assert failures == {}
