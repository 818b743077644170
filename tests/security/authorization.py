"""The authorization matrix: for every URL in the URL conf and every method it answers, which roles may use it.

This is the executable form of the README's "Roles" table. tests/security/test_authorization_matrix.py walks
the whole URL conf (pages, the REST API, the public status page, the admin) and fails for any URL or method that
has no rule here, then makes one real request per (URL, method, role) and checks the answer:

- allowed: not 401, 403, 404 or 405, not a 5xx, and (for an anonymous visitor) not sent to the login page;
- refused: pages send anonymous visitors to /login/ and answer 403 to signed-in users; the API answers 401 to
  anonymous clients and 403 to signed-in ones.

The matrix is role-level: objects are chosen so that the role can use them (a manager's own account, a
message the user wrote). Object-level rules (another manager's account, someone else's message) are proved in
test_object_level.py.

Keys are URL names; a URL whose regex lists its actions (`(?P<action>submit|approve|…)`) has one key per action,
`name[action]`. The Django admin is one prefix rule: admins only.
"""

ANONYMOUS, ROLELESS, SUPPORT, MANAGER, LEAD, ADMIN = "anonymous", "roleless", "support", "manager", "lead", "admin"
ROLES = (ANONYMOUS, ROLELESS, SUPPORT, MANAGER, LEAD, ADMIN)

EVERYONE = frozenset(ROLES)
SIGNED_IN = EVERYONE - {ANONYMOUS}
STAFF = frozenset({SUPPORT, MANAGER, LEAD, ADMIN})  # every role; a signed-in user without one is refused
LEADS = frozenset({LEAD, ADMIN})
MANAGERS = frozenset({MANAGER, ADMIN})  # the manager's own accounts; others' are refused object by object
MANAGERS_AND_LEADS = frozenset({MANAGER, LEAD, ADMIN})
REVIEWERS = frozenset({SUPPORT, LEAD, ADMIN})
PUBLISHERS = frozenset({SUPPORT, LEAD, ADMIN})  # leads publish approved messages; support unchanged pre-approved ones
ADMINS = frozenset({ADMIN})

READ_WRITE = ("GET", "POST")

MATRIX: dict[str, dict[str, frozenset[str]]] = {
    # --- Incidents and messages (pages) ---------------------------------------------------------------
    "dashboard": {"GET": STAFF},
    "email-suppressions": {"GET": LEADS},
    "email-suppression-lift": {"POST": LEADS},
    "subscriber-endpoints": {"GET": LEADS},
    "subscriber-endpoint-enable": {"POST": LEADS},
    "incident-list": {"GET": STAFF},
    "incident-create": {"GET": LEADS, "POST": LEADS},
    "incident-detail": {"GET": STAFF},
    "incident-update": {"GET": LEADS, "POST": LEADS},
    "incident-status": {"POST": LEADS},
    "incident-show-public": {"POST": LEADS},
    "message-create": {"GET": STAFF, "POST": STAFF},
    "message-detail": {"GET": STAFF},
    "message-update": {"GET": STAFF, "POST": STAFF},  # their own messages; leads any
    "message-progress": {"GET": STAFF},  # delivery counts only, never an address: the message page's rule
    "message-action[submit]": {"POST": STAFF},
    "message-action[cancel]": {"POST": STAFF},
    "message-action[approve]": {"POST": LEADS},
    "message-action[reject]": {"POST": LEADS},
    "message-action[retry]": {"POST": LEADS},
    "message-action[publish]": {"POST": PUBLISHERS},
    "approvals": {"GET": MANAGERS_AND_LEADS},  # leads: messages and compensation above the limit; managers: theirs
    "message-templates": {"GET": STAFF},
    "message-template-create": {"GET": LEADS, "POST": LEADS},
    "message-template-update": {"GET": LEADS, "POST": LEADS},
    "component-list": {"GET": STAFF},
    "maintenance-list": {"GET": STAFF},
    "maintenance-create": {"GET": LEADS, "POST": LEADS},
    "maintenance-detail": {"GET": STAFF},
    "maintenance-update": {"GET": LEADS, "POST": LEADS},
    "maintenance-action[submit]": {"POST": LEADS},
    "maintenance-action[approve]": {"POST": LEADS},
    "maintenance-action[reject]": {"POST": LEADS},
    "maintenance-action[start]": {"POST": LEADS},
    "maintenance-action[complete]": {"POST": LEADS},
    "maintenance-action[cancel]": {"POST": LEADS},
    "component-create": {"GET": LEADS, "POST": LEADS},
    "component-update": {"GET": LEADS, "POST": LEADS},
    "component-status": {"POST": LEADS},
    "component-group-create": {"GET": LEADS, "POST": LEADS},
    "component-group-update": {"GET": LEADS, "POST": LEADS},
    # --- Customer accounts (pages) --------------------------------------------------------------------
    "accounts": {"GET": STAFF},
    "account-export": {"GET": STAFF},
    "account-import": {"GET": ADMINS, "POST": ADMINS},
    "account-create": {"GET": MANAGERS, "POST": MANAGERS},
    "account-detail": {"GET": STAFF},
    "account-update": {"GET": MANAGERS, "POST": MANAGERS},
    "contact-create": {"POST": MANAGERS},
    "contact-update": {"POST": MANAGERS},
    "contact-delete": {"POST": MANAGERS},
    "board": {"GET": STAFF},
    "impact-detail": {"GET": STAFF},
    "impact-move": {"POST": MANAGERS},
    "impact-update": {"POST": MANAGERS},
    "follow-up-create": {"POST": MANAGERS},
    "follow-up-complete": {"POST": MANAGERS},
    "compensation-create": {"POST": MANAGERS},
    "compensation-move": {"POST": MANAGERS_AND_LEADS},  # leads approve; accounts.rules decides which move
    "impact-message": {"POST": MANAGERS},
    "incident-impact-add": {"POST": MANAGERS_AND_LEADS},
    "incident-impacts-derive": {"POST": MANAGERS_AND_LEADS},
    # --- Mentions (pages) -----------------------------------------------------------------------------
    "mentions": {"GET": STAFF},  # managers see only the mentions of accounts they own
    "mentions-bulk": {"POST": REVIEWERS},
    "mention-detail": {"GET": STAFF},
    "mention-action[assign]": {"POST": REVIEWERS},
    "mention-action[respond]": {"POST": REVIEWERS},
    "mention-action[escalate]": {"POST": REVIEWERS},
    "mention-action[dismiss]": {"POST": REVIEWERS},
    "mention-quality": {"GET": REVIEWERS},
    "mention-quality-accept": {"POST": ADMINS},  # whoever may edit the lexicon
    # --- Public: status page, feed, Statuspage JSON, subscriptions, sign-in, API docs, health ------------
    "status-page": {"GET": EVERYONE},
    "status-feed": {"GET": EVERYONE},
    "status-badge": {"GET": EVERYONE},
    "status-embed": {"GET": EVERYONE},
    "status-subscribe": {"GET": EVERYONE, "POST": EVERYONE},  # the email form's own page, and subscribing
    "status-confirm": {"GET": EVERYONE, "POST": EVERYONE},
    "status-unsubscribe": {"GET": EVERYONE, "POST": EVERYONE},
    "status-endpoint-subscribe": {"GET": EVERYONE, "POST": EVERYONE},
    "status-endpoint-confirm": {"GET": EVERYONE, "POST": EVERYONE},
    "status-endpoint-unsubscribe": {"GET": EVERYONE, "POST": EVERYONE},
    "status-slack-add": {"GET": EVERYONE, "POST": EVERYONE},  # a 404 unless a Slack app is configured
    "status-slack-callback": {"GET": EVERYONE},  # Slack sends the visitor back here; a bad state is a 400
    "status-sms-subscribe": {"GET": EVERYONE, "POST": EVERYONE},  # a 404 unless Twilio is configured
    "status-sms-verify": {"GET": EVERYONE, "POST": EVERYONE},
    "statuspage-summary": {"GET": EVERYONE},
    "statuspage-status": {"GET": EVERYONE},
    "statuspage-components": {"GET": EVERYONE},
    "statuspage-incidents": {"GET": EVERYONE},
    "statuspage-unresolved": {"GET": EVERYONE},
    "statuspage-maintenances": {"GET": EVERYONE},
    "statuspage-maintenances-upcoming": {"GET": EVERYONE},
    "statuspage-maintenances-active": {"GET": EVERYONE},
    "status-maintenance-ics": {"GET": EVERYONE},
    "login": {"GET": EVERYONE, "POST": EVERYONE},
    "logout": {"POST": SIGNED_IN},
    "profile": {"GET": SIGNED_IN, "POST": SIGNED_IN},  # everyone's own preferences (their time zone)
    "api-schema": {"GET": EVERYONE},
    "api-docs": {"GET": EVERYONE},
    "healthz": {"GET": EVERYONE},
    # --- REST API: incidents, components, messages, templates, subscribers -------------------------------
    "api-incident-list": {"GET": STAFF, "POST": LEADS},
    "api-incident-detail": {"GET": STAFF, "PUT": LEADS, "PATCH": LEADS},
    "api-incident-sentiment": {"GET": STAFF},
    "api-incident-timeline": {"GET": STAFF},
    "api-incident-show-on-status-page": {"POST": LEADS},
    "api-component-list": {"GET": STAFF, "POST": LEADS},
    "api-component-detail": {"GET": STAFF, "PUT": LEADS, "PATCH": LEADS},
    "api-component-uptime": {"GET": STAFF},
    "api-component-group-list": {"GET": STAFF, "POST": LEADS},
    "api-component-group-detail": {"GET": STAFF, "PUT": LEADS, "PATCH": LEADS, "DELETE": LEADS},
    "api-component-group-uptime": {"GET": STAFF},
    "api-message-list": {"GET": STAFF, "POST": STAFF},
    "api-message-preview-draft": {"POST": STAFF},
    "api-message-detail": {"GET": STAFF, "PUT": STAFF, "PATCH": STAFF},  # their own messages; leads any
    "api-message-submit": {"POST": STAFF},
    "api-message-cancel": {"POST": STAFF},
    "api-message-approve": {"POST": LEADS},
    "api-message-reject": {"POST": LEADS},
    "api-message-retry": {"POST": LEADS},
    "api-message-publish": {"POST": PUBLISHERS},
    "api-message-preview": {"GET": STAFF},
    "api-message-deliveries": {"GET": STAFF},
    "api-template-list": {"GET": STAFF, "POST": LEADS},
    "api-template-detail": {"GET": STAFF, "PUT": LEADS, "PATCH": LEADS},
    "api-subscriber-list": {"GET": LEADS, "POST": LEADS},
    "api-subscriber-detail": {"GET": LEADS, "DELETE": LEADS},
    # Maintenance windows: every role reads them; leads write, approve and move them.
    "api-maintenance-list": {"GET": STAFF, "POST": LEADS},
    "api-maintenance-detail": {"GET": STAFF, "PUT": LEADS, "PATCH": LEADS},
    "api-maintenance-submit": {"POST": LEADS},
    "api-maintenance-approve": {"POST": LEADS},
    "api-maintenance-reject": {"POST": LEADS},
    "api-maintenance-start": {"POST": LEADS},
    "api-maintenance-complete": {"POST": LEADS},
    "api-maintenance-cancel": {"POST": LEADS},
    "api-maintenance-reschedule": {"POST": LEADS},
    # Posted by alert sources (their token or HMAC signature: tests/comms/test_alerts_api.py), never by a user:
    # every user's token is refused (403), as is no credential at all (401).
    "api-alerts": {"POST": frozenset()},
    # --- REST API: mentions -------------------------------------------------------------------------------
    "api-mention-list": {"GET": STAFF},
    "api-mention-bulk": {"POST": REVIEWERS},
    "api-mention-comments": {"POST": frozenset()},  # a comment site's token or signature only (test_comments_api.py)
    "api-mention-detail": {"GET": STAFF},
    "api-mention-assign": {"POST": REVIEWERS},
    "api-mention-respond": {"POST": REVIEWERS},
    "api-mention-escalate": {"POST": REVIEWERS},
    "api-mention-dismiss": {"POST": REVIEWERS},
    "api-mention-quality": {"GET": REVIEWERS},
    "api-mention-accept-suggestion": {"POST": ADMINS},
    # --- REST API: accounts, contacts, impacts, follow-ups, compensation ---------------------------------
    "api-account-list": {"GET": STAFF, "POST": MANAGERS},
    "api-account-detail": {"GET": STAFF, "PUT": MANAGERS, "PATCH": MANAGERS},
    "api-contact-list": {"GET": STAFF, "POST": MANAGERS},
    "api-contact-detail": {"GET": STAFF, "PUT": MANAGERS, "PATCH": MANAGERS, "DELETE": MANAGERS},
    "api-incident-impacts": {"GET": STAFF, "POST": MANAGERS_AND_LEADS},
    "api-incident-impacts-derive": {"POST": MANAGERS_AND_LEADS},
    "api-impact-list": {"GET": STAFF},
    "api-impact-detail": {"GET": STAFF, "PATCH": MANAGERS},
    "api-impact-move": {"POST": MANAGERS},
    "api-impact-message": {"POST": MANAGERS},
    "api-impact-sla-credit": {"GET": STAFF},
    "api-followup-list": {"GET": STAFF, "POST": MANAGERS},
    "api-followup-detail": {"GET": STAFF},
    "api-followup-complete": {"POST": MANAGERS},
    "api-compensation-list": {"GET": STAFF, "POST": MANAGERS},
    "api-compensation-detail": {"GET": STAFF},
    "api-compensation-move": {"POST": MANAGERS_AND_LEADS},
}

# URLs no user calls: a machine does, proving who it is with a shared secret or a signature, so no role may use
# them and their refusals are tested where they are built.
MACHINE_ONLY = {
    "email-events": "the email provider's tracking webhook: ANYMAIL_WEBHOOK_SECRET and the provider's signature "
                    "(tests/comms/test_deliverability.py); a provider that is not configured is a 404",
    "sms-inbound": "Twilio's inbound-message webhook: its X-Twilio-Signature over SITE_URL + path and the parameters, "
                   "keyed by TWILIO_AUTH_TOKEN (tests/comms/test_sms_subscriptions.py); unsigned is a 403",
}

# Whole URL namespaces with one rule for every URL and method in them.
NAMESPACE_RULES: dict[str, frozenset[str]] = {
    "admin": ADMINS,  # staff superusers; everyone else is sent to the admin's sign-in page
}
# Inside those namespaces, the URLs anyone may use: the admin's own sign-in and sign-out.
NAMESPACE_PUBLIC = {"admin:login", "admin:logout"}

# The methods every URL is checked for: a page must answer 405 to any of these the matrix does not list.
CHECKED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def matrix_size() -> tuple[int, int, int]:
    """(URL keys, (URL, method) pairs, (URL, method, role) cases) of the matrix, without the admin."""
    pairs = sum(len(methods) for methods in MATRIX.values())
    return len(MATRIX), pairs, pairs * len(ROLES)
