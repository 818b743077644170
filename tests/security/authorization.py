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
    "component-create": {"GET": LEADS, "POST": LEADS},
    "component-update": {"GET": LEADS, "POST": LEADS},
    "component-status": {"POST": LEADS},
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
    # --- Public: status page, feed, Statuspage JSON, subscriptions, sign-in, API docs, health ------------
    "status-page": {"GET": EVERYONE},
    "status-feed": {"GET": EVERYONE},
    "status-subscribe": {"POST": EVERYONE},
    "status-confirm": {"GET": EVERYONE, "POST": EVERYONE},
    "status-unsubscribe": {"GET": EVERYONE, "POST": EVERYONE},
    "statuspage-summary": {"GET": EVERYONE},
    "statuspage-status": {"GET": EVERYONE},
    "statuspage-components": {"GET": EVERYONE},
    "statuspage-incidents": {"GET": EVERYONE},
    "statuspage-unresolved": {"GET": EVERYONE},
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
    # --- REST API: mentions -------------------------------------------------------------------------------
    "api-mention-list": {"GET": STAFF},
    "api-mention-bulk": {"POST": REVIEWERS},
    "api-mention-detail": {"GET": STAFF},
    "api-mention-assign": {"POST": REVIEWERS},
    "api-mention-respond": {"POST": REVIEWERS},
    "api-mention-escalate": {"POST": REVIEWERS},
    "api-mention-dismiss": {"POST": REVIEWERS},
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
