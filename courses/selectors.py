from django.db.models import QuerySet

from courses.models import Course, CourseStatus


def courses_unconfirmed_registered_by(user) -> QuerySet[Course]:
    """Courses a business account registered that are not yet 名單確認通過."""
    return Course.objects.filter(registered_by=user).exclude(status=CourseStatus.CONFIRMED).order_by("code")


def describe_unconfirmed_courses(account) -> list[str]:
    """Deletion guard for business accounts (accounts.deletion_guards)."""
    return [
        f"{course.code} {course.title}（{course.get_status_display()}）"
        for course in courses_unconfirmed_registered_by(account.user)
    ]
