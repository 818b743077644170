"""Signals other apps connect to in their AppConfig.ready(); incidents never imports them."""

from django.dispatch import Signal

# Something the public may see changed (an incident's title, status, severity, impact or components, a
# component's status). comms connects it to the status page's cache version.
public_change = Signal()

# The incident's severity, status or kind changed (sender=Incident; incident, changes = {field: (old, new)}):
# comms sends back to approval what was approved under the old facts (four eyes from SEV2 up, text written for
# another status, a public message about what became a security incident).
incident_changed = Signal()
