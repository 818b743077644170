"""A traffic spike on the public status page.

1. gunicorn (the production command's sync workers, DEBUG off, PostgreSQL and Redis) answers wrk for the status
   page, /api/v2/summary.json and a bare cached "hello" Django view, in the same run, interleaved in rounds:
   the same server, settings and middleware, so the ratio shows only what the status page costs beyond a
   Django view that reads one value from the cache.
2. nginx serves the static export (comms.statuspage.export) with the configuration docs/operations.md documents,
   against a plain static file of the same size from the same server, in the same run.

The bare view exists only here: gunicorn loads `bench.statuspage:wsgi_application()`, whose URLconf is the
product's plus /bench/hello/.
"""

import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
from pathlib import Path

from bench.common import ROOT, _children, free_port, start_web, stop, wait_for_http

GUNICORN_WORKERS = int(os.environ.get("BENCH_GUNICORN_WORKERS", 4))  # docs/operations.md's web process
WRK_THREADS = int(os.environ.get("BENCH_WRK_THREADS", 2))
WRK_CONNECTIONS = int(os.environ.get("BENCH_WRK_CONNECTIONS", 16))
WRK_SECONDS = int(os.environ.get("BENCH_WRK_SECONDS", 4))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 9))
HELLO_KEY = "bench:hello"


# --- The benchmark's own site: the product plus one bare view -----------------------------------------------


def hello(request):
    """The baseline: the cheapest cached Django view — one cache read, a constant body."""
    from django.core.cache import cache
    from django.http import HttpResponse

    body = cache.get(HELLO_KEY)
    if body is None:
        body = "hello"
        cache.set(HELLO_KEY, body, None)
    return HttpResponse(body)


hello.login_required = False  # what @login_not_required sets; the status page views are marked the same way


def __getattr__(name):
    """This module is also the benchmark site's URLconf: the product's, with the bare view mounted just before
    the public pages, so that resolving its URL costs what resolving the status page's does."""
    if name == "urlpatterns":
        from django.urls import path

        from config.urls import urlpatterns

        public = next(
            number
            for number, pattern in enumerate(urlpatterns)
            if getattr(getattr(pattern, "urlconf_name", None), "__name__", None) == "comms.statuspage.urls"
        )
        return [*urlpatterns[:public], path("bench/hello/", hello), *urlpatterns[public:]]
    raise AttributeError(name)


def wsgi_application():
    """gunicorn's app factory: the product's WSGI application with this module as the URLconf."""
    import django
    from django.conf import settings

    django.setup(set_prefix=False)
    settings.ROOT_URLCONF = __name__
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


# --- Data -----------------------------------------------------------------------------------------------------


def seed() -> None:
    """A status page during a bad day: 10 components (7 of them in two groups) with 90 days of status history for
    the uptime bars, 3 open incidents, 15 resolved ones, 4 updates each, all public."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from comms.choices import MessageState
    from comms.models import Message
    from incidents.choices import ComponentStatus, IncidentStatus
    from incidents.models import Component, ComponentGroup, ComponentStatusChange, Incident

    author, _ = get_user_model().objects.get_or_create(username="bench-lead")
    statuses = [ComponentStatus.OPERATIONAL] * 7 + [
        ComponentStatus.PARTIAL_OUTAGE,
        ComponentStatus.MAJOR_OUTAGE,
        ComponentStatus.DEGRADED_PERFORMANCE,
    ]
    now = timezone.now()
    eu = ComponentGroup.objects.create(name="EU region", position=0)
    us = ComponentGroup.objects.create(name="US region", position=4)
    components = [
        Component.objects.create(
            name=f"Component {n}", display_order=n, status=status, description=f"What component {n} does for you",
            group=eu if n < 4 else us if n < 7 else None, created_at=now - timedelta(days=120),
        )
        for n, status in enumerate(statuses)
    ]
    for n in range(18):
        resolved = n >= 3
        incident = Incident.objects.create(
            title=f"Incident {n}: card payments failing for some customers in the EU",
            severity="SEV2",
            status=IncidentStatus.RESOLVED if resolved else IncidentStatus.IDENTIFIED,
            started_at=now - timedelta(days=n * 4, hours=3),
            resolved_at=now - timedelta(days=n * 4) if resolved else None,
            impact_summary="Some card payments fail at checkout; retrying usually works.",
            public_since=now - timedelta(days=n * 4, hours=3),
        )
        incident.components.set(components[n % 10 : n % 10 + 2])
        for component in components[n % 10 : n % 10 + 2]:  # the uptime bars' history
            ComponentStatusChange.objects.create(
                component=component, from_status="operational", to_status="partial_outage", cause="incident",
                incident=incident, at=incident.started_at)
            if resolved:
                ComponentStatusChange.objects.create(
                    component=component, from_status="partial_outage", to_status="operational", cause="incident",
                    incident=incident, at=incident.resolved_at)
        for u in range(4):
            Message.objects.create(
                incident=incident,
                author=author,
                approver=author,
                channels=["statuspage"],
                state=MessageState.SENT,
                published_at=now - timedelta(days=n * 4, hours=3 - u),
                headline=f"Update {u} on incident {n}",
                explain="Some card payments in the EU fail at checkout. Our engineers are working on a fix.",
                acknowledge="We know this stops you from taking orders, and we are sorry.",
                resolve="We have moved traffic to a second provider while we fix the first.",
            )
    from comms.statuspage import invalidate_status_page

    invalidate_status_page()


# --- Processes ------------------------------------------------------------------------------------------------


def start_gunicorn(port: int, log_path: Path) -> subprocess.Popen:
    return start_web("bench.statuspage:wsgi_application()", port, GUNICORN_WORKERS, log_path)


NGINX_CONF = """
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path {prefix}/tmp;
    proxy_temp_path {prefix}/tmp;
    fastcgi_temp_path {prefix}/tmp;
    uwsgi_temp_path {prefix}/tmp;
    scgi_temp_path {prefix}/tmp;
    upstream ears_app {{ server 127.0.0.1:{app_port}; }}
    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
{snippet}
        # Everything else to the application, as operators keep it (docs/operations.md): the subscribe pages.
        location / {{ proxy_pass http://ears_app; proxy_set_header Host $host; }}
        # The baseline: a plain static file of the same size, no fallback, no extra headers.
        location = /plain.html {{ root {plain_root}; }}
    }}
}}
"""


def operations_snippet() -> str:
    """The nginx snippet of docs/operations.md, so that the benchmark measures what operators are told to run."""
    text = (ROOT / "docs" / "operations.md").read_text()
    match = re.search(r"<!-- nginx-status-export -->\n```nginx\n(.*?)```", text, re.S)
    if not match:
        raise RuntimeError("docs/operations.md has no nginx snippet for the status page export")
    return match.group(1)


def start_nginx(prefix: Path, root: Path, plain_root: Path, port: int, app_port: int) -> subprocess.Popen:
    if not shutil.which("nginx"):
        sys.exit("The status page benchmark needs nginx (apt-get install nginx) and wrk (apt-get install wrk).")
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    snippet = operations_snippet().replace("/srv/ears/status-export", str(root))
    snippet = "\n".join("        " + line if line else line for line in snippet.splitlines())
    conf = prefix / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(prefix=prefix, port=port, app_port=app_port, snippet=snippet, plain_root=plain_root)
    )
    check = subprocess.run(["nginx", "-t", "-q", "-p", str(prefix), "-c", str(conf)], capture_output=True, text=True)
    if check.returncode:
        raise RuntimeError(f"nginx refused the benchmark configuration:\n{check.stderr}")
    return subprocess.Popen(
        ["nginx", "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=open(prefix / "stderr.log", "w"),
    )


def stop_nginx(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGQUIT)  # graceful: the master stops its workers
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


# --- Measuring ------------------------------------------------------------------------------------------------


def wrk(url: str, seconds: int = WRK_SECONDS) -> dict:
    if not shutil.which("wrk"):
        sys.exit("The status page benchmark needs wrk (apt-get install wrk).")
    result = subprocess.run(
        ["wrk", "-t", str(WRK_THREADS), "-c", str(WRK_CONNECTIONS), "-d", f"{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    )
    out = result.stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    return {
        "rate": rate,
        "requests": requests,
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": sum(int(n) for n in socket_errors.groups()) if socket_errors else 0,
        "p99_ms": _ms(p99.group(1), p99.group(2)) if p99 else None,
    }


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def cpu_seconds(master: int) -> float:
    """User and system CPU time of a server's master process and its workers so far."""
    total = 0
    for pid in [master, *_children(master)]:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def compare(targets: dict[str, str], label: str, server: int) -> dict[str, dict]:
    """Each target measured ROUNDS times after a short warm-up, interleaved, the order rotated every round
    (a b c, b c a, c a b, …) so that no target always follows the same one. The machine's load drifts over a
    run, so ratios are taken within each round and the median round is reported. Beside wrk's rate, the CPU
    time the server's processes spent per request: what the server itself paid, which other load on the machine
    disturbs much less than it does the rate."""
    for url in targets.values():
        wrk(url, seconds=2)
    names = list(targets)
    runs = {name: [] for name in names}
    for number in range(ROUNDS):
        shift = number % len(names)
        for name in names[shift:] + names[:shift]:
            before = cpu_seconds(server)
            run = wrk(targets[name])
            run["cpu_us"] = (cpu_seconds(server) - before) / max(run["requests"], 1) * 1e6
            runs[name].append(run)
            sys.stderr.write(
                f"  {label} round {number + 1}: {name} {run['rate']:,.0f} req/s, "
                f"{run['cpu_us']:,.0f} µs CPU per request\n"
            )
    result = {}
    for name, measured in runs.items():
        median = statistics.median(run["rate"] for run in measured)
        chosen = min(measured, key=lambda run: abs(run["rate"] - median))
        result[name] = {
            **chosen,
            "rate": median,
            "rates": [run["rate"] for run in measured],
            "cpu_us": statistics.median(run["cpu_us"] for run in measured),
            "non_2xx": sum(run["non_2xx"] for run in measured),
            "socket_errors": sum(run["socket_errors"] for run in measured),
        }
    return result


def ratio(ours: dict, baseline: dict) -> float:
    """The median of the per-round ratios."""
    return statistics.median(a / b for a, b in zip(ours["rates"], baseline["rates"], strict=True))


def check_nginx(web: str, page_file: Path) -> None:
    """The documented configuration does what it says: the page comes from the export, with its headers, and
    the exported page's subscribe link reaches the application's page, whose form has a CSRF token (an old
    /status/?subscribe link gets the exported page, which leads there)."""
    import urllib.request

    with urllib.request.urlopen(f"{web}/status/", timeout=5) as response:
        assert response.read() == page_file.read_bytes(), "nginx did not serve the exported page"
        assert response.headers["Cache-Control"] == "public, no-cache", response.headers
    with urllib.request.urlopen(f"{web}/status/subscribe/", timeout=5) as response:
        assert b'name="csrfmiddlewaretoken"' in response.read(), "the subscribe link did not reach the application"
    with urllib.request.urlopen(f"{web}/status/?subscribe", timeout=5) as response:
        assert b'href="/status/subscribe/"' in response.read(), "an old subscribe link does not lead to subscribing"
        assert response.headers["Content-Type"] == "text/html; charset=utf-8", response.headers
    with urllib.request.urlopen(f"{web}/api/v2/summary.json", timeout=5) as response:
        assert response.headers["Access-Control-Allow-Origin"] == "*", response.headers
        assert response.headers["Content-Type"] == "application/json", response.headers


def body_size(url: str) -> int:
    import urllib.request

    with urllib.request.urlopen(url, timeout=5) as response:
        return len(response.read())


def main(var_dir: Path) -> dict:
    from django.core.management import call_command

    from comms.statuspage import export

    seed()
    call_command("collectstatic", interactive=False, verbosity=0)  # DEBUG is off: the manifest must exist
    app_port = free_port()
    gunicorn = start_gunicorn(app_port, var_dir / "gunicorn.log")
    app = f"http://127.0.0.1:{app_port}"
    try:
        wait_for_http(f"{app}/bench/hello/")
        sizes = {"page": body_size(f"{app}/status/"), "summary": body_size(f"{app}/api/v2/summary.json")}
        sys.stderr.write(
            f"statuspage: gunicorn --workers {GUNICORN_WORKERS}, wrk -t{WRK_THREADS} "
            f"-c{WRK_CONNECTIONS} -d{WRK_SECONDS}s × {ROUNDS} rounds\n"
        )
        served = compare(
            {"bare": f"{app}/bench/hello/", "page": f"{app}/status/", "summary": f"{app}/api/v2/summary.json"},
            "gunicorn",
            gunicorn.pid,
        )

        export_dir = var_dir / "status-export"
        shutil.rmtree(export_dir, ignore_errors=True)
        export_dir.mkdir(parents=True)
        written = export.write_export(export.render_export(), directory=export_dir)
        page_file = export_dir / "status" / "index.html"
        summary_file = export_dir / "api" / "v2" / "summary.json"
        plain_root = var_dir / "plain-static"
        shutil.rmtree(plain_root, ignore_errors=True)
        plain_root.mkdir(parents=True)
        (plain_root / "plain.html").write_bytes(_filler(page_file.stat().st_size))
        nginx_port = free_port()
        nginx = start_nginx(var_dir / "nginx", export_dir, plain_root, nginx_port, app_port)
        web = f"http://127.0.0.1:{nginx_port}"
        try:
            wait_for_http(f"{web}/plain.html")
            check_nginx(web, page_file)
            static = compare(
                {
                    "plain": f"{web}/plain.html",
                    "export": f"{web}/status/",
                    "export_summary": f"{web}/api/v2/summary.json",
                },
                "nginx",
                nginx.pid,
            )
        finally:
            stop_nginx(nginx)
    finally:
        stop(gunicorn)

    ratios = {
        "page": ratio(served["page"], served["bare"]),
        "summary": ratio(served["summary"], served["bare"]),
        "export": ratio(static["export"], static["plain"]),
        "export_summary": ratio(static["export_summary"], static["plain"]),
        # The same comparisons in server CPU per request (baseline's ÷ ours: above 1 means ours costs less).
        "page_cpu": served["bare"]["cpu_us"] / served["page"]["cpu_us"],
        "summary_cpu": served["bare"]["cpu_us"] / served["summary"]["cpu_us"],
        "export_cpu": static["plain"]["cpu_us"] / static["export"]["cpu_us"],
        "export_summary_cpu": static["plain"]["cpu_us"] / static["export_summary"]["cpu_us"],
    }
    lines = [
        f"status page: ours {served['page']['rate']:,.0f} req/s, bare view {served['bare']['rate']:,.0f} req/s, "
        f"ratio {ratios['page']:.2f}",
        f"summary.json: ours {served['summary']['rate']:,.0f} req/s, bare view {served['bare']['rate']:,.0f} req/s, "
        f"ratio {ratios['summary']:.2f}",
        f"nginx export: status page {static['export']['rate']:,.0f} req/s, plain file "
        f"{static['plain']['rate']:,.0f} req/s, ratio {ratios['export']:.2f}",
        f"server CPU per request: status page {served['page']['cpu_us']:,.0f} µs, summary.json "
        f"{served['summary']['cpu_us']:,.0f} µs, bare view {served['bare']['cpu_us']:,.0f} µs; nginx export "
        f"{static['export']['cpu_us']:,.1f} µs, plain file {static['plain']['cpu_us']:,.1f} µs",
    ]
    return {
        "served": served,
        "static": static,
        "ratios": ratios,
        "sizes": sizes,
        "summary_lines": lines,
        "summary": "\n".join(lines),
        "export_files": sorted(str(path.relative_to(export_dir)) for path in written),
        "export_sizes": {"page": page_file.stat().st_size, "summary": summary_file.stat().st_size},
        "workers": GUNICORN_WORKERS,
        "wrk": f"-t{WRK_THREADS} -c{WRK_CONNECTIONS} -d{WRK_SECONDS}s",
        "rounds": ROUNDS,
    }


def _filler(size: int) -> bytes:
    """An HTML file of exactly `size` bytes."""
    head, tail = b"<!doctype html><html><body><p>", b"</p></body></html>\n"
    return head + b"x" * max(size - len(head) - len(tail), 0) + tail
