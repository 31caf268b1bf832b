"""Input parsing of the 研習回饋問卷 screens (courses.feedback holds the rules); no database writes."""

from django import forms
from django.utils.translation import gettext_lazy as _

from courses.feedback import DEFAULT_KEYS, SCORE_LABELS, TEXT_MAX_LENGTH, QuestionDraft
from courses.feedback_models import Question, QuestionKind

SCORE_CHOICES = [(str(score), f"{score} {label}") for score, label in SCORE_LABELS.items()]


def field_name(question: Question) -> str:
    return f"q{question.pk}"


class AnswerForm(forms.Form):
    """One field per question: 1 to 5 as an option group, or a text."""

    def __init__(self, *args, questions: list[Question], **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions
        for number, question in enumerate(questions, start=1):
            label = f"{number}. {question.text}"
            if question.kind == QuestionKind.SCALE:
                self.fields[field_name(question)] = forms.ChoiceField(
                    label=label,
                    choices=SCORE_CHOICES,
                    widget=forms.RadioSelect,
                    error_messages={"required": _("請選擇 1 到 5 分。")},
                )
            else:
                self.fields[field_name(question)] = forms.CharField(
                    label=label,
                    required=False,
                    max_length=TEXT_MAX_LENGTH,
                    widget=forms.Textarea(attrs={"rows": 4}),
                )

    def raw_answers(self) -> dict[int, str]:
        return {question.pk: self.cleaned_data.get(field_name(question)) or "" for question in self.questions}


class SettingsForm(forms.Form):
    anonymous = forms.BooleanField(
        label=_("匿名填答（開課單位看不到填答者）"),
        required=False,
        help_text=_("有人填答後不能再變更。"),
    )
    required_for_certificate = forms.BooleanField(
        label=_("學員須先填寫問卷，才能下載本課程的研習證明"), required=False
    )


class QuestionForm(forms.Form):
    text = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=QuestionKind.choices, initial=QuestionKind.SCALE)
    key = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_key(self) -> str:
        key = self.cleaned_data.get("key") or ""
        return key if key in DEFAULT_KEYS else ""


class BaseQuestionFormSet(forms.BaseFormSet):
    """Numbered labels (第 2 題：題目) so that every control of every row has a name of its own."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        number = (index + 1) if index is not None else "__n__"
        form.fields["text"].label = _("第 %(n)s 題：題目") % {"n": number}
        form.fields["kind"].label = _("第 %(n)s 題：題型") % {"n": number}
        form.fields["ORDER"].label = _("第 %(n)s 題：順序") % {"n": number}
        form.fields["ORDER"].help_text = _("數字小的排前面。")
        form.fields["DELETE"].label = _("刪除第 %(n)s 題") % {"n": number}

    def drafts(self) -> list[QuestionDraft]:
        """The questions in the chosen order, without the deleted and the blank extra rows."""
        return [
            QuestionDraft(
                form.cleaned_data["text"].strip(), form.cleaned_data["kind"], form.cleaned_data["key"]
            )
            for form in self.ordered_forms
            if form.cleaned_data.get("text")
        ]


QuestionFormSet = forms.formset_factory(
    QuestionForm, formset=BaseQuestionFormSet, extra=2, can_order=True, can_delete=True, max_num=30
)


def question_initial(questions: list[Question]) -> list[dict]:
    return [
        {"text": q.text, "kind": q.kind, "key": q.key, "ORDER": index}
        for index, q in enumerate(questions, start=1)
    ]
