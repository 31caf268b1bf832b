"""Celery tasks of courses: each takes ids and calls a service."""

from celery import shared_task

from courses import feeds, notices, services


@shared_task
def send_enrolment_notice(enrolment_id: int, kind: str) -> bool:
    """錄取, 候補, 候補遞補, the reminder, the cancellation, hours issued or corrected (courses.notices)."""
    return notices.enrolment_notify(enrolment_id=enrolment_id, kind=kind)


@shared_task
def send_enrolment_notices(enrolment_ids: list[int], kind: str) -> int:
    """One notice to many enrolments in one task (a confirmed list's hours, a course's reminders)."""
    return notices.enrolment_notify_many(enrolment_ids=enrolment_ids, kind=kind)


@shared_task
def send_course_reminders() -> int:
    """Celery beat, each morning: reminders for the courses starting tomorrow."""
    return services.course_reminders_send()


@shared_task
def process_attendance_upload(upload_id: int) -> str:
    return services.attendance_upload_process(upload_id).status


@shared_task
def send_correction_request_notice(correction_id: int) -> int:
    return notices.correction_request_notify(correction_id=correction_id)


@shared_task
def send_kindergarten_feed() -> int:
    """Celery beat, the 15th of each month: 教保研習 hours to 全國教保資訊網 (courses.feeds)."""
    return feeds.run().pk
