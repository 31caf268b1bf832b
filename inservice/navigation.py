"""The site navigation of SPEC §1: each entry shown only to those entitled (accounts.permissions)."""

from collections.abc import Callable
from dataclasses import dataclass, replace

from django.urls import reverse

from accounts import permissions
from accounts.permissions import Perm
from courses import selectors as courses
from planning import selectors as planning


@dataclass(frozen=True)
class MenuEntry:
    key: str
    label: str
    path: str
    perm: Perm | None = None  # None: everyone, signed in or not
    view_name: str = ""  # the page's URL name
    badge: str = ""  # a key of BADGES: the number of things waiting for the user, shown beside the label
    badge_count: int = 0
    # For a page that also refuses by scope, beyond the permission: whether it opens for this user
    # (the view's own test), so that every entry a person sees opens for them.
    opens: Callable[[object], bool] | None = None

    @property
    def url_name(self) -> str:
        return self.view_name

    @property
    def url(self) -> str:
        return reverse(self.url_name)


MENU: tuple[MenuEntry, ...] = (
    # Public
    MenuEntry("course-search", "研習課程查詢", "courses/", view_name="courses:search"),
    MenuEntry("directory", "業務帳號查詢", "directory/", view_name="accounts:directory"),
    MenuEntry("statistics", "統計專區", "statistics/", view_name="planning:statistics"),
    # Teacher (教師個人帳號)
    MenuEntry("profile", "修改個人基本資料", "me/profile/", Perm.PROFILE_EDIT, "teachers:profile"),
    MenuEntry("my-enrolments", "我的研習報名", "me/enrolments/", Perm.COURSE_ENROL, "courses:my-enrolments"),
    MenuEntry(
        "learning-record", "研習紀錄", "me/learning-record/", Perm.LEARNING_RECORD, "courses:learning-record"
    ),
    MenuEntry(
        "teacher-plan",
        "教師自我進修規劃",
        "me/plan/",
        Perm.TEACHER_PLAN,
        "planning:teacher-plan",
        opens=planning.opens_teacher_plan,
    ),
    MenuEntry("reward-lookup", "獎勵查詢", "me/rewards/", Perm.REWARD_LOOKUP, "rewards:lookup"),
    # Business accounts (業務帳號)
    MenuEntry(
        "unit-teachers", "本單位教師帳號管理", "unit/teachers/", Perm.UNIT_TEACHER_ACCOUNTS, "teachers:roster"
    ),
    MenuEntry(
        "teacher-register",
        "教師資料登錄",
        "unit/teachers/register/",
        Perm.UNIT_TEACHER_ACCOUNTS,
        "teachers:register",
    ),
    MenuEntry(
        "unit-accounts",
        "本單位業務帳號管理",
        "unit/accounts/",
        Perm.UNIT_BUSINESS_ACCOUNTS,
        "accounts:unit-accounts",
    ),
    MenuEntry(
        "course-register", "研習課程登錄", "unit/courses/new/", Perm.COURSE_REGISTER, "courses:register"
    ),
    MenuEntry(
        "course-manage", "研習課程管理/資料上傳", "unit/courses/", Perm.COURSE_MANAGE, "courses:manage"
    ),
    MenuEntry("unit-charts", "統計圖表", "unit/charts/", Perm.STATISTICS_CHARTS, "courses:charts"),
    MenuEntry(
        "school-plan",
        "學校本位進修規劃",
        "unit/plan/",
        Perm.SCHOOL_PLAN,
        "planning:school-plan",
        opens=planning.opens_school_plan,
    ),
    MenuEntry("unit-rewards", "獎勵名單", "unit/rewards/", Perm.REWARD_LISTS, "rewards:lists"),
    # Regional management centre (區管中心)
    MenuEntry(
        "centre-chiefs",
        "總負責人管理",
        "centre/chiefs/",
        Perm.CENTRE_CHIEF_MANAGEMENT,
        "accounts:centre-chiefs",
    ),
    MenuEntry(
        "centre-teachers",
        "所屬學校教師帳號統計",
        "centre/teachers/",
        Perm.CENTRE_ROSTER_COUNTS,
        "teachers:centre-counts",
    ),
    MenuEntry("fill-rates", "填報率", "centre/fill-rates/", Perm.FILL_RATES, "planning:fill-rates"),
    MenuEntry(
        "authority-plans", "所屬學校規劃彙整", "centre/plans/", Perm.FILL_RATES, "planning:authority-plans"
    ),
    MenuEntry(
        "hours-corrections",
        "研習時數更正核定",
        "centre/hours-corrections/",
        Perm.HOURS_CORRECTION_APPROVE,
        "courses:corrections",
        badge="pending_corrections",
    ),
    MenuEntry("announce", "最新消息管理", "news/mine/", Perm.ANNOUNCE, "planning:announcements-mine"),
    # Network operator
    MenuEntry("reward-job", "獎勵作業", "operator/rewards/", Perm.REWARD_JOB, "rewards:job"),
    MenuEntry(
        "operator-accounts",
        "業務帳號管理（非學校單位）",
        "operator/accounts/",
        Perm.OPERATOR_ACCOUNTS,
        "accounts:operator-accounts",
    ),
    MenuEntry(
        "correct-id",
        "人員資料更正",
        "operator/people/correct-id/",
        Perm.OPERATOR_ADMIN,
        "teachers:correct-id",
    ),
    MenuEntry("cycles", "進修規劃年度", "operator/cycles/", Perm.OPERATOR_ADMIN, "planning:cycles"),
    MenuEntry("feed-runs", "夜間同步紀錄", "operator/feeds/", Perm.OPERATOR_ADMIN, "teachers:feed-runs"),
    MenuEntry("audit-log", "業務帳號異動紀錄", "operator/audit/", Perm.AUDIT_LOG, "accounts:audit-log"),
    MenuEntry(
        "security-log", "安全稽核紀錄", "operator/security-log/", Perm.AUDIT_LOG, "accounts:security-log"
    ),
    MenuEntry("admin-log", "管理後台異動紀錄", "operator/admin-log/", Perm.AUDIT_LOG, "accounts:admin-log"),
)

MENU_BY_KEY = {entry.key: entry for entry in MENU}

# What waits for the user behind an entry: one count query per page for those who see the entry.
BADGES: dict[str, Callable] = {
    "pending_corrections": lambda user: courses.pending_corrections_for_approver(user).count(),
}


def entries_for(user) -> list[MenuEntry]:
    """The entries the user may open: the permission granted and, where the page also refuses by
    scope, the page's own test passed."""
    granted = permissions.permissions_of(user)
    return [
        entry
        for entry in MENU
        if (entry.perm is None or entry.perm in granted) and (entry.opens is None or entry.opens(user))
    ]


def navigation(request) -> dict:
    """Template context processor: the menu and the signed-in user's role."""
    user = request.user
    role = permissions.role_of(user)
    return {
        "menu": [
            replace(entry, badge_count=BADGES[entry.badge](user)) if entry.badge else entry
            for entry in entries_for(user)
        ],
        "user_role_label": role.label if role else "",
        "user_unit": permissions.unit_of(user),
        "show_admin_link": permissions.has_perm(user, Perm.OPERATOR_ADMIN) and user.is_staff,
    }
