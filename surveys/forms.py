from datetime import date, timedelta

from django import forms
from django.utils import timezone

from surveys.scales import Scale

MAX_COMMENT_LENGTH = 5000
MAX_RANGE_DAYS = 366


class AnswerForm(forms.Form):
    score = forms.TypedChoiceField(coerce=int, widget=forms.RadioSelect)
    comment = forms.CharField(
        required=False, max_length=MAX_COMMENT_LENGTH, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, scale: Scale, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["score"].choices = list(scale.choices)
        self.fields["score"].label = scale.question


class DateRangeForm(forms.Form):
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        today = timezone.localdate()
        cleaned["end"] = cleaned.get("end") or today
        cleaned["start"] = cleaned.get("start") or cleaned["end"] - timedelta(days=29)
        if cleaned["start"] > cleaned["end"]:
            raise forms.ValidationError("The start date must not be after the end date.")
        if (cleaned["end"] - cleaned["start"]).days >= MAX_RANGE_DAYS:
            raise forms.ValidationError(f"Choose a range of at most {MAX_RANGE_DAYS} days.")
        return cleaned

    def range(self) -> tuple[date, date]:
        return self.cleaned_data["start"], self.cleaned_data["end"]
