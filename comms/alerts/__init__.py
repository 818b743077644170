"""Alerts that open incidents.

A monitoring system (Prometheus Alertmanager, Grafana alerting, or anything posting the generic shape) posts to
POST /api/v1/alerts/ (comms.api.alert_views), authenticated as an AlertSource. Each alert in the payload becomes an
`IncomingAlert` (comms.api.alert_serializers) and goes through `receive` (comms.alerts.intake):

- firing, first time (one open Alert row per source and fingerprint, by a unique constraint): its component is
  found from the labels (comms.alerts.mapping); an open incident already affecting that component is joined, or a
  new **internal** incident is opened with a severity from the `severity` label, the pre-approved acknowledgement is
  drafted (never published), and the communications leads are told (email and internal webhooks);
- firing again while it is open: "duplicate", nothing happens;
- firing with no component mapped: recorded, and the leads are told (no incident is opened);
- resolved: the Alert row is closed and a note on the incident suggests moving it to monitoring (its status is
  never changed automatically).

Nothing an alert does is public: incidents are internal until a lead publishes a public message or shows the
incident on the status page. Time from the first alert to the first public acknowledgement: comms.alerts.metrics.
"""
