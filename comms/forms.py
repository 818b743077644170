from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from comms.channels import REGISTRY, channel_choices, get_transport
from comms.choices import Audience, MessagePhase
from comms.messaging import CONTENT_FIELDS, EDITABLE_FIELDS, validate_channels
from comms.models import Message, MessageTemplate
from comms.models.messages import PART_LIMIT
from comms.rendering import fill_placeholders, guidance_in, placeholder_values
from core.forms import DateTimeLocalInput, IdsChoiceField
from incidents.choices import OPEN_STATUSES, ComponentStatus, IncidentStatus
from incidents.models import Component, ComponentGroup, Incident

# The incident form's "Set the affected components to": blank leaves them as they are; then the outages, mildest
# first, maintenance and operational.
AFFECTED_COMPONENT_STATUS_CHOICES = [
    ("", "Leave as they are"),
    *((status.value, status.label) for status in (
        ComponentStatus.DEGRADED_PERFORMANCE,
        ComponentStatus.PARTIAL_OUTAGE,
        ComponentStatus.MAJOR_OUTAGE,
        ComponentStatus.UNDER_MAINTENANCE,
        ComponentStatus.OPERATIONAL,
    )),
]


class IncidentForm(forms.ModelForm):
    """Create and edit an incident. Status changes on an existing incident go through StatusForm."""

    components = IdsChoiceField(
        queryset=Component.objects.all(), required=False, widget=forms.CheckboxSelectMultiple
    )
    commander = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        required=False,
    )
    component_status = forms.ChoiceField(
        label="Set the affected components to",
        choices=AFFECTED_COMPONENT_STATUS_CHOICES,
        required=False,
        help_text="Leave as they are, or change what the status page shows for the components above. On an "
        "internal incident nothing changes publicly until the incident is shown on the status page; then it "
        "applies. On a public incident it applies at once.",
    )

    class Meta:
        model = Incident
        fields = [
            "title", "severity", "kind", "status", "components", "component_status", "impact_summary",
            "internal_notes",
            "commander", "started_at", "detected_at",
        ]
        widgets = {
            "started_at": DateTimeLocalInput(),
            "detected_at": DateTimeLocalInput(),
            "impact_summary": forms.Textarea(attrs={"rows": 3}),
            "internal_notes": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "status": "A new incident starts investigating, identified or monitoring.",
            "title": "Public once the incident is on the status page: write it for customers.",
            "impact_summary": "Public once the incident is on the status page: what customers experience.",
            "components": "Public once the incident is on the status page.",
            "internal_notes": "Internal only; never shown publicly.",
            "kind": "A security incident is never public by default: a communications lead decides.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["status"]
            pending = self.instance.pending_component_status
            self.fields["component_status"].initial = pending
            if pending:
                waiting = ComponentStatus(pending).label.lower()
                self.fields["component_status"].help_text += f" Waiting to apply: {waiting}."
        else:
            self.fields["status"].choices = [(s.value, s.label) for s in OPEN_STATUSES]

    # A clock a little ahead (a laptop, a phone) is forgiven; a start hours or years ahead is a typo.
    FUTURE_TOLERANCE = timezone.timedelta(minutes=5)

    def _not_in_the_future(self, name: str, what: str):
        value = self.cleaned_data.get(name)
        now = timezone.now()
        if value is not None and value > now + self.FUTURE_TOLERANCE:
            shown = timezone.localtime(now).strftime("%Y-%m-%d %H:%M %Z")
            raise ValidationError(
                f"{what} cannot be in the future: it is now {shown}. Enter when it actually happened.",
                code="future",
            )
        return value

    def clean_started_at(self):
        return self._not_in_the_future("started_at", "The start")

    def clean_detected_at(self):
        return self._not_in_the_future("detected_at", "The detection time")

    def clean(self):
        data = super().clean()
        started, detected = data.get("started_at"), data.get("detected_at")
        if started and detected and detected < started:
            self.add_error("detected_at", "Detection cannot be earlier than the start.")
        return data


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=IncidentStatus.choices)
    note = forms.CharField(required=False, max_length=300)


# --- Components -----------------------------------------------------------------------------------------

class ComponentForm(forms.ModelForm):
    """Create and edit a component. Its status changes through ComponentStatusForm (set_component_status)."""

    class Meta:
        model = Component
        fields = ["name", "description", "tier", "group", "display_order"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        help_texts = {
            "name": "Public: the status page lists components by this name.",
            "description": "Public: shown on the status page and in its JSON.",
            "group": "Public: the status page shows the component inside this group. Leave empty for none.",
            "display_order": "Lower numbers come first on the status page.",
        }


class ComponentGroupForm(forms.ModelForm):
    """Create and edit a component group; its status is its components' worst."""

    class Meta:
        model = ComponentGroup
        fields = ["name", "description", "position"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        help_texts = {
            "name": "Public: the status page shows the group under this name, e.g. “EU region”.",
            "description": "Public: shown on the status page.",
            "position": "Lower numbers come first on the status page.",
        }


class ComponentStatusForm(forms.Form):
    status = forms.ChoiceField(choices=ComponentStatus.choices)


# --- Messages -------------------------------------------------------------------------------------------

PART_LABELS = {
    "explain": "Explain",
    "acknowledge": "Acknowledge",
    "resolve": "Resolve & compensate",
    "study": "Study",
}


def normalise_text(value: str) -> str:
    """What a textarea posts back: browsers send CRLF line ends, and the form strips the ends."""
    return (value or "").replace("\r\n", "\n").strip()


class MessageForm(forms.Form):
    """The headline, the four EARS parts and how a message goes out. Saving goes through comms.messaging."""

    template = forms.ModelChoiceField(
        queryset=MessageTemplate.objects.all(), required=False, widget=forms.HiddenInput
    )
    headline = forms.CharField(max_length=140)
    explain = forms.CharField(required=False, max_length=PART_LIMIT, widget=forms.Textarea(attrs={"rows": 3}))
    acknowledge = forms.CharField(required=False, max_length=PART_LIMIT, widget=forms.Textarea(attrs={"rows": 3}))
    resolve = forms.CharField(required=False, max_length=PART_LIMIT, widget=forms.Textarea(attrs={"rows": 3}))
    study = forms.CharField(required=False, max_length=PART_LIMIT, widget=forms.Textarea(attrs={"rows": 3}))
    phase = forms.ChoiceField(choices=MessagePhase.choices, initial=MessagePhase.UPDATE)
    audience = forms.ChoiceField(choices=Audience.choices, initial=Audience.PUBLIC)
    channels = forms.MultipleChoiceField(
        choices=channel_choices, widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one channel."},
    )
    scheduled_for = forms.DateTimeField(
        required=False, widget=DateTimeLocalInput(),
        help_text="Leave empty to send as soon as it is published or approved.",
    )
    is_announcement = forms.BooleanField(
        required=False, label="Announcement or marketing content",
        help_text="Held back on social channels during the quiet period after a major incident.",
    )

    def __init__(self, *args, message: Message | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.message = message
        if message is not None:
            del self.fields["template"]  # a message keeps the template it was made from
        for name, label in PART_LABELS.items():
            self.fields[name].label = label
            self.fields[name].help_text = Message._meta.get_field(name).help_text
        self._note_guidance()

    def _note_guidance(self):
        """Each content field's [[guidance]] from a template, as field.guidance, for the composer to list above
        the field: it must be replaced before the message can be approved."""
        for name in CONTENT_FIELDS:
            self.fields[name].guidance = guidance_in(str(self[name].value() or ""))

    def clean(self):
        data = super().clean()
        for name in CONTENT_FIELDS:
            if name in data:
                data[name] = normalise_text(data[name])
        channels = data.get("channels")
        if channels and data.get("audience"):
            try:
                validate_channels(data["audience"], channels)
            except ValidationError as error:
                self.add_error("channels", error.message_dict["channels"])
        when = data.get("scheduled_for")
        if when and when < timezone.now() and not self._same_minute(when, getattr(self.message, "scheduled_for", None)):
            self.add_error("scheduled_for", "Choose a time in the future, or leave it empty.")
        return data

    @staticmethod
    def _same_minute(a, b) -> bool:
        return a is not None and b is not None and abs(a - b) < timezone.timedelta(minutes=1)

    def message_fields(self) -> dict:
        """The cleaned values under the names comms.messaging takes."""
        return {name: self.cleaned_data[name] for name in EDITABLE_FIELDS}

    def changed_fields(self) -> dict:
        """Only what really differs from the message being edited.

        A datetime-local input has minute precision and checkboxes post in the form's order, so an untouched
        form must not count as an edit (which would send an approved message back for approval).
        """
        changes = {}
        for name, value in self.message_fields().items():
            current = getattr(self.message, name)
            if name in CONTENT_FIELDS:
                same = value == normalise_text(current)
            elif name == "channels":
                same = set(value) == set(current) and len(value) == len(current)
            elif name == "scheduled_for":
                same = value == current or self._same_minute(value, current)
            else:
                same = value == current
            if not same:
                changes[name] = value
        return changes


def template_content(template: MessageTemplate, incident: Incident) -> dict[str, str]:
    """The template's headline and parts with the incident's placeholders filled in, as create_message does."""
    values = placeholder_values(incident)
    return {name: normalise_text(fill_placeholders(getattr(template, name), values)) for name in CONTENT_FIELDS}


def template_initial(template: MessageTemplate, incident: Incident) -> dict:
    return {
        **template_content(template, incident),
        "template": template.pk,
        "phase": template.phase,
        "channels": [kind for kind in template.channels if kind in REGISTRY and get_transport(kind).is_configured()],
        "audience": Audience.PUBLIC,
    }


def message_initial(message: Message) -> dict:
    return {name: getattr(message, name) for name in EDITABLE_FIELDS}
