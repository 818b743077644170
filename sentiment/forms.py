"""The review queue's filter form. The actions take their few fields straight from the POST: the service layer
(sentiment.review) is what validates them, so that the pages, the API and the admin refuse alike."""

from django import forms
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django.utils.formats import date_format

from core.validators import whole_number
from incidents.models import Incident
from sentiment.choices import OPEN_REVIEW_STATES, Label, ReviewState, Source

OPEN, ALL = "open", "all"
NEWEST, MOST_NEGATIVE, MOST_URGENT = "newest", "negative", "urgent"


class IncidentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, incident):
        return f"{incident.severity} · {incident.title} ({date_format(timezone.localtime(incident.started_at), 'M j')})"


class MentionFilterForm(forms.Form):
    """GET filters for /mentions/. Missing values mean the defaults: open states, only flagged, most urgent first
    (newest first once "only flagged" is unticked: unflagged mentions have no priority).

    A checkbox left unticked sends nothing, so the form carries a hidden `filtered=1`: without it (a first visit,
    or a link such as /mentions/?incident=5 from the spike email) "only flagged" is on.
    """

    incident = IncidentChoiceField(queryset=Incident.objects.none(), required=False, empty_label="Any incident")
    source = forms.ChoiceField(choices=[("", "Any source"), *Source.choices], required=False)
    label = forms.ChoiceField(choices=[("", "Any label"), *Label.choices], required=False)
    reason = forms.CharField(required=False, max_length=100, label="Flag reason",
                             widget=forms.TextInput(attrs={"placeholder": "e.g. refund", "type": "search"}))
    state = forms.ChoiceField(
        choices=[(OPEN, "Open (new, in review)"), (ALL, "All states"), *ReviewState.choices], required=False
    )
    flagged = forms.BooleanField(required=False, label="Only flagged and spot checks")
    spot_check = forms.BooleanField(required=False, label="Only spot checks")
    sort = forms.ChoiceField(choices=[(MOST_URGENT, "Most urgent first"), (NEWEST, "Newest first"),
                                      (MOST_NEGATIVE, "Most negative first")], required=False)

    def __init__(self, query, *, mentions):
        data = query.copy()
        if "filtered" not in data:
            data["flagged"] = "on"
        data.setdefault("state", OPEN)
        data.setdefault("sort", MOST_URGENT if data.get("flagged") else NEWEST)
        super().__init__(data)
        linked = mentions.filter(incident__isnull=False).values("incident_id")
        chosen = data.get("incident", "")
        either = Q(pk__in=linked) | Q(pk__in=[number] if (number := whole_number(chosen)) is not None else [])
        self.fields["incident"].queryset = Incident.objects.filter(either).order_by("-started_at", "-pk")

    def filter(self, mentions):
        """The mentions that match the valid filters (an invalid one is ignored and shown as an error)."""
        self.is_valid()
        data = self.cleaned_data
        if data.get("spot_check"):
            mentions = mentions.filter(spot_check=True)
        elif data.get("flagged"):
            mentions = mentions.filter(Q(flagged=True) | Q(spot_check=True))
        state = data.get("state") or OPEN
        if state == OPEN:
            mentions = mentions.filter(review_state__in=OPEN_REVIEW_STATES)
        elif state != ALL:
            mentions = mentions.filter(review_state=state)
        if data.get("incident"):
            mentions = mentions.filter(incident=data["incident"])
        if data.get("source"):
            mentions = mentions.filter(source=data["source"])
        if data.get("label"):
            mentions = mentions.filter(label=data["label"])
        if data.get("reason"):
            mentions = mentions.filter(flag_reasons__icontains=data["reason"])
        if data.get("sort") == MOST_NEGATIVE:
            return mentions.order_by(F("compound").asc(nulls_last=True), "-posted_at", "-id")
        if data.get("sort") == MOST_URGENT:
            # Flagged first (the others have no priority); then critical, high, normal (the values sort so), and
            # last those flagged before priorities existed (none until `rescore_mentions`); then the earliest reply
            # target. With only flagged open ones shown, index mention_urgent serves the sort.
            unranked = Case(When(priority="", then=Value(1)), default=Value(0))
            return mentions.order_by("-flagged", unranked, "priority", F("reply_due_at").asc(nulls_last=True),
                                     "-posted_at", "-id")
        return mentions.order_by("-posted_at", "-id")
