"""The course state machine (SPEC §5): each action on a course and the states it is allowed from.

One table, read two ways: the services refuse an action from any other state (409, code
`wrong_state`), and the templates offer an action's button exactly when the table allows it
(`allowed_actions(course)`, the views' `actions` context).
Other rules of an action (the course's last day, someone left to admit, the admission kind) stay in
its service; the table says only which states it runs from and where it leads.

登錄中 → 開放報名 → 報名截止 → 待確認 → 名單確認通過, and 已取消 from any state before 名單確認通過.
A new action (a check-in, a questionnaire) adds its row here.
"""

from __future__ import annotations

from typing import NamedTuple

from django.utils.translation import gettext_lazy as _

from courses.models import CourseStatus

S = CourseStatus


class Action(NamedTuple):
    label: str  # the button's words
    from_states: frozenset[str]
    to_state: str | None = None  # None: the course stays in its state


# Enrolments are live (seats move, reminders go, an admitted teacher may give the place up).
ENROLMENTS_LIVE = frozenset({S.OPEN, S.CLOSED})

ACTIONS: dict[str, Action] = {
    "edit": Action(_("修改課程資料"), frozenset({S.REGISTERING, S.OPEN})),
    "open": Action(_("開放報名"), frozenset({S.REGISTERING}), S.OPEN),
    "admit": Action(_("審核錄取"), ENROLMENTS_LIVE),
    "close": Action(_("報名截止"), frozenset({S.OPEN}), S.CLOSED),
    "upload": Action(_("上傳出席資料"), frozenset({S.CLOSED, S.PENDING}), S.PENDING),
    "confirm": Action(_("名單確認通過"), frozenset({S.PENDING}), S.CONFIRMED),
    "cancel": Action(_("取消課程"), frozenset({S.REGISTERING, S.OPEN, S.CLOSED, S.PENDING}), S.CANCELLED),
    "correct": Action(_("申請更正"), frozenset({S.CONFIRMED})),
    "decline": Action(_("放棄錄取"), ENROLMENTS_LIVE),  # the teacher's
    # 場次 and 報到 (courses.checkin): sessions change until the list is confirmed; scans are taken
    # from 開放報名 until 名單確認通過; attendance from the scans is the "upload" step's other way.
    "session_edit": Action(_("修改場次"), frozenset({S.REGISTERING, S.OPEN, S.CLOSED, S.PENDING})),
    "checkin": Action(_("報到"), frozenset({S.OPEN, S.CLOSED, S.PENDING})),
    # Pages rather than changes, offered by the same table: 場次 until the course is cancelled,
    # 報到紀錄與出席時數 once it has opened.
    "sessions": Action(_("場次"), frozenset({S.REGISTERING, S.OPEN, S.CLOSED, S.PENDING, S.CONFIRMED})),
    "checkins": Action(_("報到紀錄與出席時數"), frozenset({S.OPEN, S.CLOSED, S.PENDING, S.CONFIRMED})),
    # 研習回饋問卷 (courses.feedback): a participant answers in any state but 已取消; its other rules
    # (admitted, not absent, from the last day, once) stay in courses.feedback.
    "feedback": Action(
        _("填寫研習回饋問卷"), frozenset({S.REGISTERING, S.OPEN, S.CLOSED, S.PENDING, S.CONFIRMED})
    ),
    # 研習時數 sent by a partner system (courses.partners): once the course has opened, until cancelled.
    "partner_hours": Action(_("登錄研習時數"), frozenset({S.OPEN, S.CLOSED, S.PENDING, S.CONFIRMED})),
}


def allows(action: str, status: str) -> bool:
    """Whether `action` may run on a course in `status` (an unknown action never may)."""
    entry = ACTIONS.get(action)
    return entry is not None and status in entry.from_states


def target(action: str) -> str:
    """The state an action moves the course to."""
    to_state = ACTIONS[action].to_state
    if to_state is None:
        raise ValueError(f"{action!r} leaves the course in its state")
    return to_state


def allowed_actions(course) -> dict[str, bool]:
    """{action: allowed} for the course's state: the template's `actions.open`, `actions.cancel`, …"""
    return {name: course.status in entry.from_states for name, entry in ACTIONS.items()}
