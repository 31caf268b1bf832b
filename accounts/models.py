"""People, units, authorities and accounts."""

from django.contrib.auth.models import AbstractUser
from django.db import connections, models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import national_id
from accounts.masking import mask_name


class UnitKind(models.TextChoices):
    AUTHORITY = "authority", _("主管機關")
    SCHOOL = "school", _("學校")
    UNIVERSITY = "university", _("大專校院")
    LEGAL_ENTITY = "legal_entity", _("法人")
    SOCIAL_EDU = "social_edu", _("社教機構")
    OPERATOR = "operator", _("教師進修網")


class Stage(models.TextChoices):
    KINDERGARTEN = "幼兒園", _("幼兒園")
    PRIMARY = "國小", _("國小")
    JUNIOR = "國中", _("國中")
    SENIOR = "高中", _("高中")
    VOCATIONAL = "高職", _("高職")
    SPECIAL = "特殊教育學校", _("特殊教育學校")


CLERK_ONLY_KINDS = (UnitKind.UNIVERSITY, UnitKind.LEGAL_ENTITY, UnitKind.SOCIAL_EDU)

# Stages inside the planning service and the reward population (SPEC §6, §7): not 幼兒園. The one
# definition of "in planning scope": the plans, the snapshot, the fill rates and every reward read it.
PLANNING_STAGES = (Stage.PRIMARY, Stage.JUNIOR, Stage.SENIOR, Stage.VOCATIONAL, Stage.SPECIAL)


def in_planning_scope_q(prefix: str = "") -> Q:
    """Schools in planning scope, reached through `prefix` (e.g. "unit__", "school__")."""
    return Q(**{f"{prefix}kind": UnitKind.SCHOOL, f"{prefix}stage__in": PLANNING_STAGES})


def in_planning_scope_sql(unit_id_column: str) -> tuple[str, list]:
    """The same rule for raw SQL: "<unit_id_column> IN (...)" with its parameters, the subquery
    compiled by the ORM from `in_planning_scope_q` (no second spelling of the stages, no values in
    the text)."""
    subquery, params = (
        Unit.objects.filter(in_planning_scope_q()).values("id").order_by().query.sql_with_params()
    )
    return f"{unit_id_column} IN ({subquery})", list(params)


class UnitQuerySet(models.QuerySet):
    def authorities(self):
        return self.filter(kind=UnitKind.AUTHORITY)

    def schools(self):
        return self.filter(kind=UnitKind.SCHOOL)

    def in_planning_scope(self):
        return self.filter(in_planning_scope_q())


class Unit(models.Model):
    """單位/機關: a competent authority (主管機關, also the 區管中心), a school or another body."""

    code = models.CharField(_("代碼"), max_length=10, unique=True)
    name = models.CharField(_("名稱"), max_length=100)
    kind = models.CharField(_("類別"), max_length=20, choices=UnitKind.choices)
    stage = models.CharField(_("教育階段"), max_length=10, choices=Stage.choices, blank=True)
    authority = models.ForeignKey(
        "self",
        verbose_name=_("主管機關"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="units",
        limit_choices_to={"kind": UnitKind.AUTHORITY},
    )

    objects = UnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("單位")
        verbose_name_plural = _("單位")
        ordering = ["code"]
        # The importers write through raw SQL, past the ORM's choices: the database holds the rules.
        constraints = [
            models.CheckConstraint(name="unit_kind_valid", condition=Q(kind__in=UnitKind.values)),
            models.CheckConstraint(
                name="unit_stage_only_for_schools",
                condition=(Q(kind=UnitKind.SCHOOL) & Q(stage__in=Stage.values))
                | (~Q(kind=UnitKind.SCHOOL) & Q(stage="")),
            ),
            models.CheckConstraint(
                name="unit_school_has_authority",
                condition=~Q(kind=UnitKind.SCHOOL) | Q(authority__isnull=False),
            ),
            models.CheckConstraint(
                name="unit_authority_has_no_authority",
                condition=~Q(kind=UnitKind.AUTHORITY) | Q(authority__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_k12_school(self) -> bool:
        return self.kind == UnitKind.SCHOOL

    @property
    def in_planning_scope(self) -> bool:
        """A school of a stage the planning service and the rewards cover (PLANNING_STAGES)."""
        return self.kind == UnitKind.SCHOOL and self.stage in PLANNING_STAGES

    @property
    def clerks_only(self) -> bool:
        """大專校院, 法人 and 社教機構 may only hold 作業人員, managed by the operator (rule 1)."""
        return self.kind in CLERK_ONLY_KINDS


class NationalIdTaken(Exception):
    """Another person already holds this number under one of the listed look-up keys."""


class PersonQuerySet(models.QuerySet):
    def by_national_id(self, value: str):
        # Every listed look-up key's digest: during a re-keying a person may be stored under any.
        return self.filter(national_id_digest__in=national_id.digests(value))

    def lock_national_id(self, value: str) -> None:
        """Serialise, until this transaction ends, everyone who looks up and then writes this number.

        Outside a re-keying the unique digest is enough: two writers of one number compute one
        digest and the database refuses the second. While re-keying, two processes may be on
        different writer keys (docs/operations.md, stage 2 is taken one process at a time), so two
        new records of one person would carry different digests and both be accepted. Each writer
        therefore takes a transaction-level advisory lock on every digest version of the number, in
        sorted order (no deadlock), *before* its look-up: whoever comes second waits, then finds the
        first one's committed record. Processes share at least the old key in every stage, so they
        always share a lock. PostgreSQL only; SQLite (the demo) has one writer at a time anyway.
        """
        connection = connections[self.db]
        if not national_id.rekeying() or connection.vendor != "postgresql":
            return
        if not connection.in_atomic_block:
            raise RuntimeError("lock_national_id needs a transaction: the lock ends with it")
        keys = sorted({_advisory_key(d) for d in national_id.digests(value)})
        with connection.cursor() as cursor:
            for key in keys:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _advisory_key(digest: str) -> int:
    """A digest as PostgreSQL's signed 64-bit advisory-lock key (a collision only serialises more)."""
    return int(digest[:16], 16) - (1 << 63)


class Person(models.Model):
    """人員: one real person, identified by national ID (身分證字號/居留證號), with or without an account."""

    name = models.CharField(_("姓名"), max_length=60)
    email = models.EmailField(_("電子郵件"), blank=True)
    # Where the e-mail came from (teachers.trust, "the trusted address"): the unit whose roster
    # import or forms wrote it, and whether the person confirmed it by following a link sent there.
    email_unit = models.ForeignKey(
        "Unit",
        verbose_name=_("電子郵件登錄單位"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # db_default too: the importers and benchmarks insert people in SQL.
    email_confirmed = models.BooleanField(_("電子郵件已由本人確認"), default=False, db_default=False)
    # Unique through Meta.constraints rather than unique=True: on PostgreSQL a unique CharField
    # also gets a varchar_pattern_ops index for LIKE, which a digest never needs and every insert
    # (a national roster import inserts 200,000) would have to maintain.
    national_id_digest = models.CharField(max_length=64, editable=False)
    national_id_encrypted = models.TextField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = _("人員")
        verbose_name_plural = _("人員")
        constraints = [
            models.UniqueConstraint(fields=["national_id_digest"], name="person_national_id_digest_unique")
        ]

    def __str__(self) -> str:
        # Never the ID: this string reaches admin lists, logs and the audit trail.
        return self.masked_name

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)

    def set_national_id(self, value: str) -> None:
        """The one way a record gets a number; refuses one another person holds (any key version).

        While re-keying it takes the number's lock (PersonQuerySet.lock_national_id, re-entrant) and
        looks again, so a caller that forgot to lock before its own look-up still cannot create a
        second record of one person."""
        national_id.validate_national_id(value)
        Person.objects.lock_national_id(value)
        if national_id.rekeying() and Person.objects.by_national_id(value).exclude(pk=self.pk).exists():
            raise NationalIdTaken
        self.national_id_digest = national_id.digest(value)
        self.national_id_encrypted = national_id.encrypt(value)

    def reveal_national_id(self) -> str:
        """The number in clear, for tests and the shell. The portal's own code never calls it: an
        export decrypts through national_id.reveal under its name on ID_RECIPIENTS (a source scan
        in tests/accounts/test_id_recipients.py holds that)."""
        return national_id.decrypt(self.national_id_encrypted)


class User(AbstractUser):
    """使用者帳號: a teacher account (教師個人帳號) or a business account's sign-in (業務帳號)."""

    person = models.ForeignKey(
        Person,
        verbose_name=_("人員"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
    )

    class Meta(AbstractUser.Meta):
        verbose_name = _("使用者帳號")
        verbose_name_plural = _("使用者帳號")

    @property
    def display_name(self) -> str:
        if self.person_id:
            return self.person.name
        return self.get_full_name() or self.username


class BusinessAccountType(models.TextChoices):
    CHIEF = "chief", _("總負責人")
    CONTACT = "contact", _("連絡人")
    CLERK = "clerk", _("作業人員")


class BusinessAccountStatus(models.TextChoices):
    PENDING = "pending", _("待啟用")
    ACTIVE = "active", _("啟用中")
    DELETED = "deleted", _("已刪除")


class BusinessAccountQuerySet(models.QuerySet):
    def live(self):
        """Pending or active: a deleted account stays only as history."""
        return self.exclude(status=BusinessAccountStatus.DELETED)


class BusinessAccount(models.Model):
    """業務帳號: a personal business account of one person at one unit (attachment 二)."""

    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="business_account")
    # Empty while the account is an application: an application never creates or changes roster
    # data (SPEC §3.2 rule 4). The manager's enabling links it to the person of the roster.
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="business_accounts", null=True, blank=True
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("單位"), on_delete=models.PROTECT, related_name="business_accounts"
    )
    type = models.CharField(_("帳號類型"), max_length=10, choices=BusinessAccountType.choices)
    status = models.CharField(
        _("狀態"), max_length=10, choices=BusinessAccountStatus.choices, default=BusinessAccountStatus.PENDING
    )
    phone = models.CharField(_("聯絡電話"), max_length=30, blank=True)
    applied_at = models.DateTimeField(_("申請時間"), auto_now_add=True)
    enabled_at = models.DateTimeField(_("啟用時間"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("刪除時間"), null=True, blank=True)
    # The sign-in name the account had: deletion frees it for reuse (SPEC §3.2 rule 6).
    username = models.CharField(_("使用者帳號"), max_length=150, default="")
    # What the applicant typed, checked against the roster only when the manager enables it.
    applicant_name = models.CharField(_("申請人填寫的姓名"), max_length=60, blank=True)
    applicant_national_id_digest = models.CharField(max_length=64, blank=True, editable=False)
    applicant_national_id_encrypted = models.TextField(blank=True, editable=False)

    objects = BusinessAccountQuerySet.as_manager()

    class Meta:
        verbose_name = _("業務帳號")
        verbose_name_plural = _("業務帳號")
        ordering = ["unit__code", "type", "applied_at"]
        constraints = [
            # One live business account per national ID, site-wide (SPEC §3.2); deleted ones are history.
            models.UniqueConstraint(
                fields=["person"],
                condition=~Q(status="deleted"),
                name="one_business_account_per_person",
            ),
            models.CheckConstraint(
                # An enabled account belongs to a person of the roster; an application (or one
                # deleted before it was enabled) does not.
                name="business_account_active_has_person",
                condition=~Q(status="active") | Q(person__isnull=False),
            ),
            models.CheckConstraint(
                name="business_account_type_valid", condition=Q(type__in=BusinessAccountType.values)
            ),
            models.CheckConstraint(
                name="business_account_status_valid", condition=Q(status__in=BusinessAccountStatus.values)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.get_type_display()} {mask_name(self.holder_name)}（{self.username}）"

    @property
    def holder_name(self) -> str:
        """The roster's name once enabled; before that, only what the applicant typed."""
        return self.person.name if self.person_id else self.applicant_name

    @property
    def masked_holder_name(self) -> str:
        return mask_name(self.holder_name)

    @property
    def is_active(self) -> bool:
        return self.status == BusinessAccountStatus.ACTIVE

    @property
    def is_pending(self) -> bool:
        return self.status == BusinessAccountStatus.PENDING


class SecurityEventKind(models.TextChoices):
    SIGN_IN = "sign_in", _("登入成功")
    SIGN_IN_FAILED = "sign_in_failed", _("登入失敗")
    MFA_FAILED = "mfa_failed", _("兩步驟驗證碼錯誤")
    LOCKED_OUT = "locked_out", _("失敗次數過多，暫停登入")
    PASSWORD_CHANGED = "password_changed", _("變更密碼")
    PASSWORD_RESET = "password_reset", _("重設密碼")
    EMAIL_CHANGED = "email_changed", _("變更電子郵件")
    MFA_CHANGED = "mfa_changed", _("變更兩步驟驗證設定")
    FORBIDDEN = "forbidden", _("拒絕存取（403）")
    NOT_FOUND = "not_found", _("查無或無權查看（404）")
    ROSTER_LOOKUP = "roster_lookup", _("教師資料登錄查詢身分證字號")
    SSO_FAILED = "sso_failed", _("帳號漫遊登入失敗")


class SecurityEvent(models.Model):
    """安全稽核紀錄 (SPEC §9, ASVS V7): sign-ins and access decisions, which are not model changes.

    Model changes (accounts, units, the roster) stay in django-auditlog's LogEntry, which needs a
    changed object; a failed sign-in of an unknown name or a refused request has none. A table of
    its own gives indexed columns to filter on and a retention purge that leaves the change
    history alone. Never holds a national ID or a password (accounts.security_log redacts).
    """

    kind = models.CharField(_("事件"), max_length=20, choices=SecurityEventKind.choices)
    at = models.DateTimeField(_("時間"), default=timezone.now)
    user = models.ForeignKey(
        User, verbose_name=_("帳號"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The username at the time, or what was typed at a failed sign-in (redacted).
    username = models.CharField(_("使用者帳號"), max_length=150, blank=True)
    ip = models.GenericIPAddressField(_("來源位址"), null=True, blank=True)
    path = models.CharField(_("請求路徑"), max_length=300, blank=True)
    method = models.CharField(_("方法"), max_length=8, blank=True)
    # Why it failed, as a short code (a failed 帳號漫遊: id_token_wrong_nonce…); never an ID or a token.
    reason = models.CharField(_("原因"), max_length=80, blank=True)

    class Meta:
        verbose_name = _("安全稽核紀錄")
        verbose_name_plural = _("安全稽核紀錄")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["at"], name="security_event_at"),
            models.Index(fields=["kind", "at"], name="security_event_kind_at"),
            models.Index(fields=["user", "at"], name="security_event_user_at"),
        ]
        constraints = [
            models.CheckConstraint(
                name="security_event_kind_valid", condition=Q(kind__in=SecurityEventKind.values)
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.username}"


class KeyRotation(models.Model):
    """The progress of one national-ID re-keying pass over one store (accounts.key_rotation):
    resumable from `last_pk`, committed with each batch. `target` names the writer keys it
    re-keys to by a fingerprint (never a key)."""

    target = models.CharField(max_length=32)
    store = models.CharField(max_length=40)
    last_pk = models.BigIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    passes = models.PositiveSmallIntegerField(default=1)
    started_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("身分證字號金鑰輪替")
        verbose_name_plural = _("身分證字號金鑰輪替")
        constraints = [models.UniqueConstraint(fields=["target", "store"], name="key_rotation_target_store")]

    def __str__(self) -> str:
        return f"{self.store} {self.done}/{self.total}"
