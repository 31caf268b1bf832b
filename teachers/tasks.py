"""E-mails of 申請教師帳號, sent by the worker so the applicant's page never waits (no timing oracle)."""

from celery import shared_task

from teachers import batch, feeds, mail, sso


@shared_task
def send_application_mail(kind: str, person_id: int, site: str, application_id: int | None = None) -> None:
    mail.teacher_application_notify(kind=kind, person_id=person_id, site=site, application_id=application_id)


@shared_task
def send_moved_away_mail(old_membership_id: int, new_membership_id: int) -> int:
    """教師資料登錄 moved a teacher here: the old unit is told (teachers.mail)."""
    return mail.person_transfer_notify(
        old_membership_id=old_membership_id, new_membership_id=new_membership_id
    )


@shared_task
def sync_teacher_feeds() -> list[int]:
    """Celery beat, 03:00 Asia/Taipei: every nightly roster feed (teachers.feeds)."""
    return [run.pk for run in feeds.roster_feed_run_all()]


@shared_task
def sync_teacher_feed(source: str) -> int:
    return feeds.roster_feed_run(source).pk


@shared_task
def import_roster_upload(upload_id: int) -> str:
    """批次上傳: one school's roster file through the data-exchange engine (teachers.batch)."""
    return batch.roster_upload_process(upload_id).status


@shared_task
def send_sso_binding_mail(
    id_digest: str | list[str], name: str, uid: str, eduinfo: dict, asker: str, site: str
) -> bool:
    """帳號漫遊 by national ID and name: the check and the mail, off the request (teachers.sso)."""
    return sso.sso_binding_mail_send(
        id_digest=id_digest, name=name, uid=uid, eduinfo=eduinfo, asker=asker, site=site
    )
