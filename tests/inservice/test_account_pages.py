"""Account pages and sign-in pages a first-time user meets (issue 9, points 15 and 16)."""

import re
import time
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.adapters import lockout_minutes
from accounts.models import BusinessAccountStatus, BusinessAccountType
from tests.factories import PASSWORD, BusinessAccountFactory
from tests.helpers import signed_in_client
from tests.helpers import totp_code as current_code

# Terms allauth's own zh-Hant mixes for the same things; the portal says 兩步驟驗證, 驗證器 App,
# 驗證碼 and 復原碼 everywhere.
OTHER_TERMS = re.compile(
    r"二階|雙重驗證|兩階段|多重要素|恢復碼|恢復代碼|復原代碼|[Aa]uthenticator ?驗證器|驗證器應用程式|TOTP 驗證器|驗証"
)


def _main(response) -> str:
    html = response.content.decode()
    return html[html.index("<main") : html.index("</main>")]


def _sign_in(client, user, *, code=True):
    client.post(reverse("account_login"), {"login": user.username, "password": PASSWORD})
    if code:
        client.post(reverse("mfa_authenticate"), {"code": current_code()})


@pytest.fixture
def new_clerk(school):
    """A business account just enabled: verified e-mail, no second factor yet."""
    return BusinessAccountFactory(unit=school, type=BusinessAccountType.CLERK, totp=False).user


# --- 15: 帳號設定 -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_header_leads_to_account_settings(teacher):
    html = signed_in_client(teacher).get(reverse("home")).content.decode()
    header = html[html.index("<header") : html.index("</header>")]
    assert f'href="{reverse("account_settings")}">帳號設定</a>' in header


@pytest.mark.django_db
def test_account_settings_links_every_account_page(chief):
    response = signed_in_client(chief).get(reverse("account_settings"))
    assert response.status_code == 200
    html = _main(response)
    for name in ("account_email", "account_change_password", "mfa_index", "mfa_generate_recovery_codes"):
        assert f'href="{reverse(name)}"' in html, name
    for label in ("電子郵件", "密碼", "兩步驟驗證", "復原碼"):
        assert f">{label}</a></h2>" in html


@pytest.mark.django_db
def test_account_settings_needs_a_sign_in(client):
    response = client.get(reverse("account_settings"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.django_db
def test_two_step_verification_has_one_name_on_every_account_page(client, chief, new_clerk):
    _sign_in(client, chief)
    pages = ["account_settings", "account_email", "account_change_password", "mfa_index"]
    pages += ["mfa_generate_recovery_codes", "account_reauthenticate"]
    for name in pages:
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        assert not OTHER_TERMS.search(_main(response)), (name, OTHER_TERMS.findall(_main(response)))
    assert "兩步驟驗證" in _main(client.get(reverse("mfa_index")))
    other = Client()
    _sign_in(other, new_clerk, code=False)
    activate = _main(other.get(reverse("mfa_activate_totp")))
    assert "兩步驟驗證" in activate
    assert not OTHER_TERMS.search(activate), OTHER_TERMS.findall(activate)
    challenge = Client()
    challenge.post(reverse("account_login"), {"login": chief.username, "password": PASSWORD})
    page = _main(challenge.get(reverse("mfa_authenticate")))
    assert "兩步驟驗證" in page
    assert not OTHER_TERMS.search(page)


def test_compiled_catalogue_is_in_step_with_its_source():
    """The .mo is committed (no compilemessages at test or deploy time): it must match the .po."""
    import gettext

    directory = Path(settings.BASE_DIR) / "locale" / "zh_Hant" / "LC_MESSAGES"
    source = (directory / "django.po").read_text(encoding="utf-8")
    with open(directory / "django.mo", "rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    msgids = re.findall(r'^msgid "(.+)"$', source, re.M)
    msgstrs = re.findall(r'^msgstr(?:\[0\])? "(.*)"$', source, re.M)[1:]  # skip the header
    assert msgids and len(msgids) == len(msgstrs)
    for msgid, msgstr in zip(msgids, msgstrs, strict=True):
        assert compiled.gettext(msgid.replace('\\"', '"')) == msgstr.replace('\\"', '"'), msgid


@pytest.mark.django_db
def test_fresh_sign_in_is_not_asked_for_the_password_again(client, new_clerk):
    _sign_in(client, new_clerk, code=False)
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 200


@pytest.mark.django_db
def test_sensitive_change_asks_for_the_password_once_the_sign_in_is_old(client, new_clerk, monkeypatch):
    _sign_in(client, new_clerk, code=False)
    later = time.time() + 301  # allauth's reauthentication timeout is 300 s
    monkeypatch.setattr(time, "time", lambda: later)
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))


# --- 16: sign-in pages --------------------------------------------------------------------------


@pytest.mark.django_db
def test_sign_in_has_nothing_to_tab_through_between_account_and_password(client):
    html = _main(client.get(reverse("account_login")))
    between = html[html.index('id="id_login"') : html.index('<label for="id_password"')]
    assert not re.search(r"<(a|button|input|select|textarea)\b", between)


@pytest.mark.django_db
def test_sign_in_has_one_forgotten_password_link(client):
    html = _main(client.get(reverse("account_login")))
    assert html.count(f'href="{reverse("account_reset_password")}"') == 1


@pytest.mark.django_db
def test_two_step_code_field_has_focus(client, chief):
    client.post(reverse("account_login"), {"login": chief.username, "password": PASSWORD})
    html = _main(client.get(reverse("mfa_authenticate")))
    field = re.search(r"<input[^>]*name=\"code\"[^>]*>", html).group(0)
    assert "autofocus" in field
    assert '<label for="id_code">驗證碼' in html


@pytest.mark.django_db
def test_wrong_code_says_what_to_do_and_how_long_to_wait(client, chief):
    client.post(reverse("account_login"), {"login": chief.username, "password": PASSWORD})
    html = _main(client.post(reverse("mfa_authenticate"), {"code": "000000"}))
    assert "驗證碼不正確或已使用過" in html
    assert "30 秒" in html


@pytest.mark.django_db
def test_reused_code_says_to_wait_for_the_next_one(chief):
    code = current_code()
    first = Client()
    first.post(reverse("account_login"), {"login": chief.username, "password": PASSWORD})
    first.post(reverse("mfa_authenticate"), {"code": code})
    second = Client()
    second.post(reverse("account_login"), {"login": chief.username, "password": PASSWORD})
    html = _main(second.post(reverse("mfa_authenticate"), {"code": code}))
    assert "_auth_user_id" not in second.session
    assert "已使用過" in html and "等下一組" in html


@pytest.mark.django_db
def test_lockout_says_how_long_to_wait_and_what_to_do(client, teacher):
    for _ in range(6):
        response = client.post(
            reverse("account_login"), {"login": teacher.username, "password": "wrong-password"}
        )
    html = _main(response)
    assert f"請於 {lockout_minutes()} 分鐘後再試" in html
    assert "忘記密碼" in html


def test_lockout_wait_follows_the_rate_limit_setting(settings):
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/900s/key"}
    assert lockout_minutes() == 15


@pytest.mark.django_db
def test_pending_account_page_says_who_enables_the_account(client, school):
    account = BusinessAccountFactory(unit=school, type=BusinessAccountType.CONTACT)
    account.status = BusinessAccountStatus.PENDING
    account.save()
    account.user.is_active = False
    account.user.save()
    response = client.post(
        reverse("account_login"), {"login": account.user.username, "password": PASSWORD}, follow=True
    )
    html = _main(response)
    assert "帳號尚未啟用" in html
    assert "由該校的總負責人" in html
    assert "區管中心" in html


@pytest.mark.django_db
def test_signed_in_message_has_no_stray_dots(client, teacher):
    response = client.post(
        reverse("account_login"), {"login": teacher.username, "password": PASSWORD}, follow=True
    )
    html = _main(response)
    assert f"已登入：{teacher.username}。" in html
    assert ".." not in html


def test_email_address_factory_is_verified():
    # Guard for the fixtures above: a new clerk signs in without the e-mail step.
    assert EmailAddress._meta.get_field("verified")
