"""Default message templates, created by a data migration and restorable by `load_demo_data`.

An instruction to the writer is [[guidance]] (see comms.rendering), never a sentence customers would read:
a message that still has guidance cannot be approved or published. Pre-approved templates have none, since
they may go out unchanged.
"""

from django.apps import apps as global_apps

TEMPLATES = [
    {
        "name": "Initial acknowledgement",
        "phase": "initial",
        "pre_approved": True,
        "channels": ["statuspage", "email", "subscriber_hooks", "sms", "x"],
        "headline": "We are investigating a problem with {components}",
        "explain": "We are investigating reports of problems with {components}. Our engineers are on it now.",
        "acknowledge": "We know this gets in the way of your work, and we are sorry. "
        "We will post the next update by {next_update} at {status_page_url}.",
    },
    {
        "name": "Update: still working on it",
        "phase": "update",
        "pre_approved": True,
        "channels": ["statuspage", "email", "subscriber_hooks", "sms"],
        "headline": "Still working on {incident_title}",
        "explain": "The problem with {components} is not fixed yet and we are still working on it "
        "(status: {status}). There is no new information to share right now.",
        "acknowledge": "We are sorry for the continued disruption. Next update by {next_update}.",
    },
    {
        "name": "Resolution",
        "phase": "resolution",
        "pre_approved": False,
        "channels": ["statuspage", "email", "subscriber_hooks", "sms", "x"],
        "headline": "Resolved: {incident_title}",
        "explain": "The problem affecting {components} has been fixed and everything is working normally again.",
        "acknowledge": "We are sorry for the disruption this caused you.",
        "resolve": "Service is fully restored. [[Describe any service credit or other compensation offered, "
        "or delete this if there is none.]] Thank you for your patience.",
    },
    {
        "name": "Post-incident review",
        "phase": "review",
        "pre_approved": False,
        "channels": ["statuspage", "email", "subscriber_hooks", "sms"],
        "headline": "What happened during {incident_title}, and what we are changing",
        "explain": "[[Summarise what customers experienced and for how long.]]",
        "acknowledge": "We are sorry; we know you rely on {components}.",
        "study": "What happened: [[what failed, and what customers saw]] "
        "Why it happened: [[the cause, in plain words]] "
        "What we are changing so it does not happen again: [[each change, and when it will be done]]",
    },
]


def convert_unedited_templates(apps, conversions: dict[str, dict[str, tuple[str, str]]]) -> int:
    """Rewrite default templates' text where it is still exactly the old default: conversions maps a template
    name to {field: (old text, new text)}. A field someone edited is left as they wrote it. Returns the number of
    templates changed."""
    MessageTemplate = apps.get_model("comms", "MessageTemplate")
    changed = 0
    for template in MessageTemplate.objects.filter(name__in=conversions):
        fields = [
            field for field, (old, new) in conversions[template.name].items() if getattr(template, field) == old
        ]
        for field in fields:
            setattr(template, field, conversions[template.name][field][1])
        if fields:
            template.save(update_fields=[*fields, "updated_at"])
            changed += 1
    return changed


def create_default_templates(apps=global_apps) -> int:
    """Create any default template that does not exist (by name); existing ones are left as edited."""
    MessageTemplate = apps.get_model("comms", "MessageTemplate")
    created = 0
    for template in TEMPLATES:
        fields = dict(template)
        created += MessageTemplate.objects.get_or_create(name=fields.pop("name"), defaults=fields)[1]
    return created


