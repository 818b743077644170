"""What comms asks of the apps above it. sentiment registers in its AppConfig.ready(); comms imports it not."""

from core.hooks import Hook

dashboard_panels = Hook(
    "dashboard_panels",
    "f(request) -> (template name, context dict) of a panel on the dashboard (the review queue for support), "
    "or None when this user has nothing there.",
)
