"""Shared by the benchmarks: a throw-away PostgreSQL database, Redis, worker processes, memory sampling."""

import os
import platform
import socket
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def bench_database_url(name: str = "ears_bench") -> str:
    """Create (anew) a database for the benchmark on the server of DATABASE_URL; return its URL."""
    import psycopg

    base = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    parts = urlsplit(base)
    if parts.scheme not in ("postgres", "postgresql"):
        sys.exit("The benchmarks need PostgreSQL: set DATABASE_URL=postgres://… (and REDIS_URL=redis://…).")
    with psycopg.connect(base.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


def configure_environment(**extra) -> dict:
    os.environ["DATABASE_URL"] = bench_database_url()
    os.environ.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    os.environ["CELERY_QUEUE"] = f"bench-{uuid.uuid4().hex[:8]}"
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 60)
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")  # the in-process API client
    os.environ.setdefault("VAR_DIR", str(ROOT / "var" / "bench"))
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # The benchmarks measure throughput, not the API's rate limits (which count in Redis across runs): lifted.
    for name in ("API_RATE_PER_TOKEN", "API_RATE_PER_IP", "API_RATE_INGEST", "API_RATE_PREVIEW"):
        os.environ.setdefault(name, "1000000/minute")
    os.environ.update({key: str(value) for key, value in extra.items()})
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return dict(os.environ)


def start_worker(concurrency: int, log_path: Path) -> subprocess.Popen:
    """A worker on this run's own queues (the three of CELERY_QUEUE), which the benchmark process also sends to."""
    queue = os.environ["CELERY_QUEUE"]
    log = open(log_path, "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "--app", "config", "worker", "--queues", "default,deliveries,ingest",
         "--concurrency",
         str(concurrency), "--hostname", f"{queue}@bench", "--without-gossip", "--without-mingle",
         "--loglevel", "WARNING"],
        cwd=ROOT, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT,
    )
    return process


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_web(app: str, port: int, workers: int, log_path: Path) -> subprocess.Popen:
    """gunicorn as the production command runs it (sync workers, config/gunicorn.conf.py), on this run's settings."""
    log = open(log_path, "w")
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", app, "--config", "config/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--log-level", "warning"],
        cwd=ROOT, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT,
    )


def wait_for_http(url: str, timeout: float = 30.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer within {timeout:.0f} s") from None
            time.sleep(0.2)


def wait_for_worker(timeout: float = 30.0) -> None:
    from config.celery_app import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.control.ping(destination=[f"{os.environ['CELERY_QUEUE']}@bench"], timeout=1):
            return
    raise RuntimeError("the benchmark worker did not start; see var/bench/worker.log")


@contextmanager
def measured_worker(concurrency: int, log_path: Path):
    """A running worker whose memory is sampled; yields the sampler (peak_total, peak_single)."""
    worker = start_worker(concurrency, log_path)
    try:
        wait_for_worker()
        sampler = MemorySampler(worker.pid)
        sampler.start()
        try:
            yield sampler
        finally:
            sampler.stop()
    finally:
        stop(worker)


def wait_for(done, label: str, timeout: float = 900, interval: float = 0.2) -> None:
    """Poll done() until it is true; done() may report progress. Gives up after `timeout` seconds."""
    started = time.monotonic()
    while not done():
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"{label} did not finish within {timeout / 60:.0f} minutes")
        time.sleep(interval)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


class MemorySampler(threading.Thread):
    """Samples the resident memory of a process and its children; peak is the largest total seen."""

    def __init__(self, pid: int, interval: float = 0.25):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_total = 0
        self.peak_single = 0
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            sizes = [_rss(pid) for pid in [self.pid, *_children(self.pid)]]
            self.peak_total = max(self.peak_total, sum(sizes))
            self.peak_single = max([self.peak_single, *sizes])
            self._halt.wait(self.interval)

    def stop(self):
        self._halt.set()
        self.join()


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for task in Path(f"/proc/{pid}/task").iterdir()
                for c in (task / "children").read_text().split()]
    except (FileNotFoundError, ProcessLookupError):
        return []


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory = int(Path("/proc/meminfo").read_text().split()[1]) // (1024 * 1024)
    return f"{os.cpu_count()} × {cpu}, {memory} GiB RAM, Python {platform.python_version()}, {platform.system()}"


def progress(label: str, done: int, total: int, started: float) -> None:
    rate = done / max(time.monotonic() - started, 1e-9)
    sys.stderr.write(f"\r  {label}: {done:,}/{total:,} ({rate:,.0f}/s)   ")
    sys.stderr.flush()


class CpuMeter:
    """Core-seconds the whole machine spent busy (every process: ours, PostgreSQL, Redis) between start and stop,
    from /proc/stat; with the wall time, how much of the machine a run used."""

    def __enter__(self):
        self.started, self.busy_before = time.monotonic(), self._busy()
        return self

    def __exit__(self, *exc):
        self.seconds = time.monotonic() - self.started
        self.busy = self._busy() - self.busy_before

    @property
    def utilisation(self) -> float:
        return self.busy / (self.seconds * (os.cpu_count() or 1))

    @staticmethod
    def _busy() -> float:
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle, iowait
        return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")
