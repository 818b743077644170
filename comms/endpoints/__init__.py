"""Status page subscriptions that are webhook URLs: Slack, Microsoft Teams (Workflows), Discord and signed generic
webhooks.

- subscriptions.py: subscribe (abuse limits, the cap on unconfirmed ones), the message carrying the code, confirm,
  unsubscribe;
- kinds.py: one class per kind (what URL it accepts, how a message and the code message look, how it is posted);
  slack.py, teams.py, discord.py, webhook.py hold each kind's rendering and posting;
- posting.py: the POST through core.outbound.OutboundSession and what each answer means;
- slack_oauth.py: "Add to Slack", Slack's OAuth v2 flow that gives a confirmed Slack subscription without a pasted URL.

The channel that delivers approved public messages to confirmed endpoints is comms.channels.subscriber_hooks.
"""
