from django import forms
from django.contrib.auth import get_user_model

from comms.choices import OPEN_STATUSES, IncidentStatus
from comms.models import Component, Incident


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class IncidentForm(forms.ModelForm):
    """Create and edit an incident. Status changes on an existing incident go through StatusForm."""

    components = forms.ModelMultipleChoiceField(
        queryset=Component.objects.all(), required=False, widget=forms.CheckboxSelectMultiple
    )
    commander = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        required=False,
    )

    class Meta:
        model = Incident
        fields = [
            "title", "severity", "kind", "status", "components", "impact_summary", "internal_notes",
            "commander", "started_at", "detected_at",
        ]
        widgets = {
            "started_at": DateTimeLocalInput(),
            "detected_at": DateTimeLocalInput(),
            "impact_summary": forms.Textarea(attrs={"rows": 3}),
            "internal_notes": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {"status": "A new incident starts investigating, identified or monitoring."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["status"]
        else:
            self.fields["status"].choices = [(s.value, s.label) for s in OPEN_STATUSES]

    def clean(self):
        data = super().clean()
        started, detected = data.get("started_at"), data.get("detected_at")
        if started and detected and detected < started:
            self.add_error("detected_at", "Detection cannot be earlier than the start.")
        return data


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=IncidentStatus.choices)
    note = forms.CharField(required=False, max_length=300)
