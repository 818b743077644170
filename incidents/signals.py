"""Signals other apps connect to in their AppConfig.ready(); incidents never imports them."""

from django.dispatch import Signal

# Something the public may see changed (an incident's title, status, severity, impact or components, a
# component's status). comms connects it to the status page's cache version.
public_change = Signal()

# The incident's severity changed (sender=Incident; incident, old, new): comms re-checks who approved pending
# messages, since four eyes apply from SEV2 up.
severity_changed = Signal()
