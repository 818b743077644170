"""Maintenance windows in comms: a lead's approval (approval.py), the notices to subscribers and webhooks
(notices.py) and their texts (rendering.py). The windows themselves, their state and their components are
incidents' (incidents/maintenance.py)."""
