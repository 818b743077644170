"""gunicorn's settings for the web process: `gunicorn config.wsgi -c config/gunicorn.conf.py` (docs/operations.md).

gunicorn names itself in a `Server` header on every response and has no setting to stop it; telling a scanner
which server to try its exploits on helps nobody here. This file is gunicorn's, not Django's: it imports no app.
"""

from gunicorn.http import wsgi

_headers_with_server = wsgi.Response.default_headers


def _default_headers_without_server(response):
    return [line for line in _headers_with_server(response) if not line.lower().startswith("server:")]


wsgi.Response.default_headers = _default_headers_without_server
wsgi.SERVER = ""  # HTTP/2 responses (only with gunicorn's own TLS) send the header, empty
