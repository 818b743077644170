"""What every response tells the browser (a Content-Security-Policy, nosniff, a referrer policy) and what it does
not tell anyone (which server software answers). tests/browser/test_content_security_policy.py checks that the
pages really work under the policy."""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent.parent
EMAIL_TEMPLATES = ROOT / "templates" / "comms" / "email"


def directives(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    return {name: sources for name, *sources in (part.split() for part in header.split(";") if part.strip())}


@pytest.fixture
def signed_in(client, lead):
    client.force_login(lead)
    return client


@pytest.mark.parametrize(
    "path",
    ["/status/", "/api/v2/summary.json", "/status/feed.atom", "/login/", "/api/docs/", "/healthz"],
)
def test_public_pages_json_and_feeds_carry_the_content_security_policy(client, path):
    response = client.get(path)
    assert response.status_code in (200, 503)  # /healthz may report the broker down
    assert directives(response)["script-src"] == ["'self'"]


@pytest.mark.parametrize("path", ["/", "/incidents/", "/approvals/", "/mentions/", "/accounts/", "/api/v1/incidents/"])
def test_signed_in_pages_and_the_api_carry_the_content_security_policy(signed_in, path):
    response = signed_in.get(path)
    assert response.status_code == 200
    assert "script-src" in directives(response)


def test_the_policy_lets_scripts_styles_and_frames_come_only_from_this_site(client):
    policy = directives(client.get("/status/"))
    assert policy["default-src"] == policy["script-src"] == policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == policy["form-action"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert not [source for sources in policy.values() for source in sources if "unsafe" in source]


def test_responses_also_forbid_sniffing_and_keep_the_referrer_on_this_site(client):
    response = client.get("/status/")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_a_page_with_the_email_preview_allows_the_emails_own_style_attributes_by_hash_and_no_other(signed_in):
    from core.csp import source_hash

    incident = IncidentFactory()
    composer = directives(signed_in.get(f"/incidents/{incident.pk}/messages/new/"))
    styles = re.findall(r'\sstyle="([^"]*)"', (EMAIL_TEMPLATES / "update-body.html").read_text())
    assert styles  # the email has style attributes to allow
    assert composer["style-src-attr"] == ["'unsafe-hashes'", *dict.fromkeys(source_hash(s) for s in styles)]
    assert composer["style-src"] == ["'self'"]
    assert "style-src-attr" not in directives(signed_in.get("/incidents/"))  # other pages allow none


def test_the_api_docs_load_swagger_ui_and_its_start_up_script_from_files(client):
    page = client.get("/api/docs/").content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert len(scripts) == 3
    assert all('src="' in attributes and not body.strip() for attributes, body in scripts)
    assert "<style" not in page and " style=" not in page
    start_up = client.get("/api/docs/?script=")
    assert start_up["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in start_up.content.decode()


def test_no_page_template_has_an_inline_script_handler_or_style():
    """The policy refuses them; emails (templates/comms/email) are not pages and style themselves inline."""
    inline = re.compile(
        r"<script(?![^>]*\ssrc=)[^>]*>|\son[a-z]+\s*=|javascript:|\sstyle\s*=|<style[\s>]", re.IGNORECASE
    )
    found = [
        f"{template.relative_to(ROOT)}: {match.group(0)}"
        for template in (ROOT / "templates").rglob("*.html")
        if EMAIL_TEMPLATES not in template.parents
        for match in inline.finditer(template.read_text())
    ]
    assert found == []


def test_with_debug_on_djangos_error_pages_go_without_the_policy_and_pages_keep_it(client, settings):
    settings.DEBUG = True  # the debug pages style and script themselves inline
    assert "Content-Security-Policy" not in client.get("/no-such-page/")
    assert "Content-Security-Policy" in client.get("/status/")


# --- The Server header under gunicorn -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_gunicorn_with_the_projects_config_names_no_server_software(tmp_path):
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DATABASE_", "REDIS_"))}
    env.update(VAR_DIR=str(tmp_path), DEBUG="true", DJANGO_SETTINGS_MODULE="config.settings")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "-c", "config/gunicorn.conf.py",
         "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        response, deadline = None, time.monotonic() + 30
        while response is None and server.poll() is None and time.monotonic() < deadline:
            try:
                response = urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=60)
            except (ConnectionError, urllib.error.URLError):
                time.sleep(0.2)
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert response is not None, f"gunicorn did not answer:\n{output}"
    assert response.status == 200
    assert response.headers.get("Server") is None
    assert "gunicorn" not in str(response.headers).lower()
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
