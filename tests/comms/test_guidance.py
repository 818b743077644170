"""Template guidance ([[…]]): an instruction to the writer is marked as guidance, shown to the writer, never
rendered for customers, and a message that still has guidance or an unfilled {placeholder} cannot be approved
(comms.lint.approval_blockers, and lint errors)."""

import importlib
import re

import pytest
from django.apps import apps

from comms import messaging
from comms.choices import MessagePhase
from comms.defaults import TEMPLATES, convert_unedited_templates
from comms.lint import approval_blockers, as_dicts, lint_message
from comms.models import Message, MessageTemplate
from comms.rendering import guidance_in, render_all, render_email, render_x_post, without_guidance
from tests.factories import ComponentFactory, IncidentFactory, MessageFactory

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("comms.migrations.0003_template_guidance")
DEFAULTS = {template["name"]: template for template in TEMPLATES}
CONTENT = ("headline", "explain", "acknowledge", "resolve", "study")
# What a sentence addressed to the writer starts with; customers never read an imperative like these.
INSTRUCTION_RE = re.compile(r"(?:^|[.:]\s+)(?:Describe|Summarise|Summarize|Explain|List|Add|Insert|Write|Say|State|"
                            r"Mention|Replace|Delete|Include|Give)\b")


@pytest.fixture
def incident():
    incident = IncidentFactory(title="Payments failing")
    incident.components.add(ComponentFactory(name="Payments"))
    return incident


def resolution_template() -> MessageTemplate:
    return MessageTemplate.objects.get(name="Resolution")


# --- the default templates --------------------------------------------------------------------------------


def test_the_default_templates_mark_their_instructions_to_the_writer_as_guidance():
    assert guidance_in(DEFAULTS["Resolution"]["resolve"]) == [
        "Describe any service credit or other compensation offered, or delete this if there is none."
    ]
    assert guidance_in(DEFAULTS["Post-incident review"]["explain"]) == [
        "Summarise what customers experienced and for how long."
    ]
    assert guidance_in(DEFAULTS["Post-incident review"]["study"]) == [
        "what failed, and what customers saw", "the cause, in plain words", "each change, and when it will be done",
    ]


@pytest.mark.parametrize("name", DEFAULTS)
def test_no_default_template_has_an_instruction_or_a_blank_outside_guidance(name):
    for field in CONTENT:
        customer_text = without_guidance(DEFAULTS[name].get(field, ""))
        assert not INSTRUCTION_RE.search(customer_text), (field, customer_text)
        assert "…" not in customer_text, (field, customer_text)  # a blank to fill in is guidance too


def test_the_stored_default_templates_have_the_guidance_too():
    assert "[[Describe any service credit" in resolution_template().resolve


def test_a_message_from_a_pre_approved_default_template_can_be_approved_unchanged(incident, lead):
    for template in MessageTemplate.objects.filter(pre_approved=True, name__in=DEFAULTS):
        message = messaging.create_message(incident=incident, author=lead, template=template)
        assert approval_blockers(message) == [], template.name


# --- approval_blockers and lint ---------------------------------------------------------------------------


def test_a_message_from_the_resolution_template_cannot_be_approved_until_the_guidance_is_replaced(incident, lead):
    message = messaging.create_message(incident=incident, author=lead, template=resolution_template())
    assert approval_blockers(message) == [
        "Resolve still has the template's guidance “Describe any service credit or other compensation offered…”: "
        "replace it with what customers should read, or delete it."
    ]
    message.resolve = "Service is fully restored. Every affected account gets a 10 % credit. Thank you."
    assert approval_blockers(message) == []


def test_approval_blockers_is_empty_for_a_clean_message():
    assert approval_blockers(MessageFactory()) == []


def test_approval_blockers_names_each_part_with_guidance_or_an_unfilled_placeholder():
    message = MessageFactory.build(
        headline="Resolved: {incident_title}",
        explain="It works again. [[Say what customers saw.]] [[And for how long.]]",
        acknowledge="We are sorry, {customer_name}.",
        study="[[The cause",
    )
    assert approval_blockers(message) == [
        "Headline has the placeholder {incident_title}, which is not filled in: write the incident's title in "
        "its place.",
        "Explain still has the template's guidance “Say what customers saw.”: replace it with what customers "
        "should read, or delete it.",
        "Explain still has the template's guidance “And for how long.”: replace it with what customers should "
        "read, or delete it.",
        "Acknowledge has the placeholder {customer_name}, which is not filled in: it is not a placeholder EARS "
        "knows; write the text in its place.",
        "Study has a “[[” or “]]” left over from guidance: finish the edit or remove it.",
    ]


def test_lint_reports_guidance_and_placeholders_as_errors_before_the_warnings():
    message = MessageFactory.build(phase=MessagePhase.RESOLUTION, resolve="All fixed. [[Offer a credit.]]",
                                   explain="Problem with {components}. A DNS change broke it.")
    findings = lint_message(message)
    assert [(f.code, f.level, f.field) for f in findings.errors] == [
        ("placeholder", "error", "explain"), ("guidance", "error", "resolve"),
    ]
    assert findings[:2] == findings.errors
    assert {f.code for f in findings.warnings} == {"jargon", "no_thanks"}
    assert {f.level for f in findings.warnings} == {"warning"}
    assert as_dicts(findings)[0]["level"] == "error"


def test_a_clean_message_has_no_lint_errors():
    assert lint_message(MessageFactory.build()).errors == []


# --- nothing renders guidance to customers ----------------------------------------------------------------


def test_no_customer_rendering_shows_guidance(incident):
    message = MessageFactory.build(
        incident=incident, headline="Resolved [[say what]]", explain="Fixed. [[Say when it was fixed.]]",
        resolve="Restored. [[Describe any service credit or other compensation offered.]] Thank you.",
        channels=["statuspage", "email", "x"],
    )
    rendering = render_all(message).as_dict()
    assert "[[" not in str(rendering) and "compensation offered" not in str(rendering)
    assert "Restored. Thank you." in rendering["statuspage"]["body"]
    assert "Describe" not in "".join(render_email(message)) and "Say when" not in render_x_post(message)


# --- the data migration -----------------------------------------------------------------------------------


def test_the_migration_writes_the_same_guidance_as_the_defaults():
    for name, fields in MIGRATION.CONVERSIONS.items():
        for field, (_old, new) in fields.items():
            assert DEFAULTS[name][field] == new


def old_default(name: str, **edits) -> MessageTemplate:
    template = MessageTemplate.objects.get(name=name)
    for field, (old, _new) in MIGRATION.CONVERSIONS[name].items():
        setattr(template, field, old)
    for field, value in edits.items():
        setattr(template, field, value)
    template.save()
    return template


def test_the_migration_converts_an_unedited_default_template():
    resolution = old_default("Resolution")
    assert "Describe here any service credit" in resolution.resolve
    review = old_default("Post-incident review")
    assert convert_unedited_templates(apps, MIGRATION.CONVERSIONS) == 2
    resolution.refresh_from_db()
    review.refresh_from_db()
    assert resolution.resolve == DEFAULTS["Resolution"]["resolve"]
    assert (review.explain, review.study) == (DEFAULTS["Post-incident review"]["explain"],
                                             DEFAULTS["Post-incident review"]["study"])


def test_the_migration_leaves_a_template_someone_edited_alone():
    edited = "Service is fully restored. Every account gets a 5 % credit. Thank you for your patience."
    resolution = old_default("Resolution", resolve=edited)
    review = old_default("Post-incident review", explain="Checkout failed for an hour.")
    assert convert_unedited_templates(apps, MIGRATION.CONVERSIONS) == 1
    resolution.refresh_from_db()
    review.refresh_from_db()
    assert resolution.resolve == edited
    assert review.explain == "Checkout failed for an hour."  # edited: kept
    assert review.study == DEFAULTS["Post-incident review"]["study"]  # still the old default: converted


# --- the pages --------------------------------------------------------------------------------------------


def test_the_composer_lists_a_templates_guidance_above_its_field_without_javascript(client, lead, incident):
    client.force_login(lead)
    content = client.get(f"/incidents/{incident.pk}/messages/new/?template={resolution_template().pk}").content
    content = content.decode()
    note = re.search(r'<div class="guidance-note" data-guidance-for="resolve">(.*?)</div>', content, re.DOTALL)
    assert note, "no guidance note above Resolve"
    assert "replace the guidance in [[…]] before submitting" in note.group(1)
    assert "<li>Describe any service credit or other compensation offered" in note.group(1)
    assert '<div class="guidance-note" data-guidance-for="explain" hidden>' in content  # nothing to replace there


def test_the_preview_shows_guidance_as_an_error_that_must_be_fixed_before_approval(client, lead, incident):
    client.force_login(lead)
    data = {"headline": "Resolved: Payments failing", "explain": "Fixed.", "acknowledge": "We are sorry.",
            "resolve": "Restored. [[Describe any service credit or other compensation offered.]] Thank you.",
            "study": "", "phase": "resolution", "audience": "public", "channels": ["statuspage"],
            "scheduled_for": "", "action": "preview"}
    content = client.post(f"/incidents/{incident.pk}/messages/new/", data).content.decode()
    errors = re.search(r'<div class="lint-errors" data-preview="lint-errors-box" role="alert">(.*?)</div>', content,
                       re.DOTALL)
    assert errors, "no error box"
    assert "Must fix before approval" in errors.group(1)
    assert "Resolve still has the template&#x27;s guidance “Describe any service credit" in errors.group(1)
    assert "No warnings." not in content
    assert not Message.objects.exists()


def test_the_message_page_shows_an_approver_the_guidance_left_in(client, lead, incident):
    message = MessageFactory(incident=incident, resolve="Restored. [[Describe any credit offered.]]")
    client.force_login(lead)
    content = client.get(message.get_absolute_url()).content.decode()
    assert "Must fix before approval" in content
    assert "guidance “Describe any credit offered.”" in content


@pytest.mark.parametrize("text", [
    "[\u200b[Describe the credit]\u200b]",  # zero-width spaces between the brackets
    "［［Describe the credit］］",  # fullwidth brackets
    "We are fixing {incident title}.",  # a placeholder mistyped
    "Status: { status }.",
    "Status: ｛status｝.",  # fullwidth braces
])
def test_guidance_or_placeholders_in_disguise_are_caught_before_approval(text):
    from comms.lint import approval_blockers

    message = MessageFactory(headline="Checkout errors", explain=text)
    assert approval_blockers(message), f"{text!r} would go out as written"
