"""`python -m bench.resilience.launch worker|beat ARGS…`: the `celery` command, for the resilience harness.

The process is the real `celery --app config worker` (or `beat`) with at most three harness-only changes, all
read from the environment and all off unless set:

- RESILIENCE_X_BASE_URL: requests to https://api.twitter.com (tweepy) go to this base URL instead — a local
  fake of the X API. The rest of tweepy (OAuth 1.0a signing, error classes, response parsing) runs as is.
- RESILIENCE_SWEEP_SECONDS: beat runs sweep_deliveries this often instead of every 30 s.
- RESILIENCE_DELIVERY_TIMINGS, e.g. "DEAD_CLAIM_GRACE_SECONDS=2,RETRY_BASE_SECONDS=1": these constants of
  comms.delivery in this process.

The short variants in tests/resilience use the last two so that a recovery fits in a test; `make resilience`
keeps the production values.
"""

import os
import sys

X_API = "https://api.twitter.com"


def redirect_x(base_url: str) -> None:
    import requests

    original = requests.Session.request
    base_url = base_url.rstrip("/")

    def request(self, method, url, *args, **kwargs):
        if isinstance(url, str) and url.startswith(X_API + "/"):
            url = base_url + url[len(X_API):]
        return original(self, method, url, *args, **kwargs)

    requests.Session.request = request


def shorten_sweep(seconds: float) -> None:
    from config.celery_app import app

    app.conf.beat_schedule["sweep-deliveries"]["schedule"] = seconds


def shorten_delivery_timings(spec: str) -> None:
    import django

    django.setup()
    from comms.delivery import dispatch, send, sweep

    for item in spec.split(","):
        name, value = item.split("=")
        module = next((module for module in (sweep, send, dispatch) if hasattr(module, name.strip())), None)
        if module is None:
            raise SystemExit(f"comms.delivery has no {name.strip()}")
        setattr(module, name.strip(), float(value))


def main() -> None:
    if os.environ.get("RESILIENCE_X_BASE_URL"):
        redirect_x(os.environ["RESILIENCE_X_BASE_URL"])
    if os.environ.get("RESILIENCE_SWEEP_SECONDS"):
        shorten_sweep(float(os.environ["RESILIENCE_SWEEP_SECONDS"]))
    if os.environ.get("RESILIENCE_DELIVERY_TIMINGS"):
        shorten_delivery_timings(os.environ["RESILIENCE_DELIVERY_TIMINGS"])
    from celery.bin.celery import main as celery

    sys.argv = ["celery", "--app", "config", *sys.argv[1:]]
    sys.exit(celery())


if __name__ == "__main__":
    main()
