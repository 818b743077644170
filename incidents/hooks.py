"""What incidents asks of the apps above it. Each registers in its AppConfig.ready(); incidents imports none."""

from core.hooks import Hook

close_checks = Hook(
    "close_checks",
    "f(incident) -> list of sentences saying what still blocks closing it (open follow-ups, unreviewed "
    "mentions); empty when nothing does.",
)

page_panels = Hook(
    "page_panels",
    "f(request, incident) -> (template name, context dict) of a panel on the incident page (sentiment), or "
    "None when this user may not see it.",
)
