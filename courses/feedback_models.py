"""研習回饋問卷 (issue 23 point 4): one questionnaire per course, its questions, and the answers.

Imported at the end of `courses.models`, so the tables are the courses app's. Who answered
(`FeedbackRespondent`, the one-answer rule) and what was answered (`FeedbackResponse` and its
`FeedbackAnswer` rows) are two tables with no link between them: for an anonymous questionnaire
the answer rows carry no person, no time and no sequential number, so neither the organiser's
pages nor the rows themselves tell which answer is whose.
"""

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Person
from courses.models import Course

SCORE_MIN, SCORE_MAX = 1, 5


class QuestionKind(models.TextChoices):
    SCALE = "scale", _("五點量表")
    TEXT = "text", _("文字回答")


class Questionnaire(models.Model):
    """研習回饋問卷: one course's questionnaire and how it is answered."""

    course = models.OneToOneField(
        Course, on_delete=models.CASCADE, primary_key=True, related_name="questionnaire"
    )
    anonymous = models.BooleanField(_("匿名填答"), default=True)
    required_for_certificate = models.BooleanField(_("須先填寫問卷才能下載研習證明"), default=False)

    class Meta:
        verbose_name = _("研習回饋問卷")
        verbose_name_plural = _("研習回饋問卷")

    def __str__(self) -> str:
        return str(self.course)


class Question(models.Model):
    """問卷題目: one item of a course's questionnaire, in the order the organiser chose."""

    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(_("順序"))
    kind = models.CharField(_("題型"), max_length=10, choices=QuestionKind.choices)
    text = models.CharField(_("題目"), max_length=200)
    # The default item this question is (content, instructor, …): what the authority's aggregate
    # adds up across courses. Empty for a question the organiser added.
    key = models.CharField(max_length=20, blank=True, default="")

    class Meta:
        verbose_name = _("問卷題目")
        verbose_name_plural = _("問卷題目")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["questionnaire", "position"], name="question_position_once"),
            models.CheckConstraint(name="question_kind_valid", condition=Q(kind__in=QuestionKind.values)),
        ]

    def __str__(self) -> str:
        return self.text


class FeedbackRespondent(models.Model):
    """填答紀錄: that a person answered a questionnaire; kept only for the one-answer rule."""

    # Random, with no time: the order of these rows says nothing about the order of the answers.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="respondents")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("問卷填答紀錄")
        verbose_name_plural = _("問卷填答紀錄")
        constraints = [
            models.UniqueConstraint(fields=["questionnaire", "person"], name="feedback_once_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.questionnaire_id} {self.person_id}"


class FeedbackResponse(models.Model):
    """One submitted questionnaire. `person` only when the course's questionnaire is not anonymous."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="responses")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("問卷回覆")
        verbose_name_plural = _("問卷回覆")

    def __str__(self) -> str:
        return str(self.pk)


class FeedbackAnswer(models.Model):
    """The answer to one question: a score of 1 to 5, or a text."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    response = models.ForeignKey(FeedbackResponse, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    score = models.PositiveSmallIntegerField(_("分數"), null=True, blank=True)
    text = models.TextField(_("文字回答"), blank=True, default="")

    class Meta:
        verbose_name = _("問卷作答")
        verbose_name_plural = _("問卷作答")
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="feedback_answer_once"),
            models.CheckConstraint(
                name="feedback_score_range",
                condition=Q(score__isnull=True) | Q(score__gte=SCORE_MIN, score__lte=SCORE_MAX),
            ),
        ]
        indexes = [models.Index(fields=["question", "score"], name="feedback_answer_score_idx")]

    def __str__(self) -> str:
        return f"{self.question_id} {self.score}"
