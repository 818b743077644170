"""The public status page, as a package:

- cache: every public body is cached under a version that any public change bumps (invalidate_status_page);
- data: what the public may see, and the Statuspage-compatible JSON;
- render: the HTML page and the Atom feed, rendered without a request (the cache and the export share them);
- views, urls: the public pages (no login), subscriptions;
- export: the static copy for nginx or object storage, rendered by render and data, never by a view.
"""

from django.db import transaction

from comms.statuspage import export
from comms.statuspage.cache import _bump_version


def invalidate_status_page() -> None:
    """Call after anything public changes: an incident's status, a component's status, a published update.

    The version changes at once (so the change shows to the code that made it) and again when the transaction
    commits: a visitor who came in between read the old rows and may have cached them under the first new
    version. After the commit the static export (comms.statuspage.export) is brought up to date by a worker.
    """
    _bump_version()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(_bump_version, robust=True)
        transaction.on_commit(export.schedule_export, robust=True)
    else:
        export.schedule_export()  # never raises
