"""Public pages for subscribing by SMS (comms.sms), and Twilio's inbound-message webhook. No login.

The status page links here (templates/status/_sms_section.html) rather than holding the form: these pages differ per
visitor (the CSRF token, the code page), the cached status page does not. When Twilio is not configured every page
here is a 404. No page names the number: the code page's address holds a random token.
"""

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from twilio.request_validator import RequestValidator

from comms import sms
from comms.statuspage.render import SubscribeForm
from comms.statuspage.views import _page
from core import ratelimit

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


class SmsSubscribeForm(SubscribeForm):
    """The email form's component and group choices, with a mobile number in place of the address."""

    email = None
    phone = forms.CharField(label="Mobile number", max_length=32,
                            help_text="With + and the country code, e.g. +44 7700 900123.")
    field_order = ["phone", "components", "groups"]

    def clean_phone(self):
        return sms.normalise_phone(self.cleaned_data["phone"])


class SmsCodeForm(forms.Form):
    code = forms.CharField(label="Code from the text message", max_length=12)

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split())
        if not (len(code) == 6 and code.isascii() and code.isdigit()):
            raise ValidationError("Type the 6 digits of the code from the text message.", code="invalid_code")
        return code


def _require_sms():
    if not settings.TWILIO_CONFIGURED:
        raise Http404("SMS subscriptions are not offered.")


def _subscribe_page(request, form, status=200, refusal=None, wait=None) -> HttpResponse:
    response = _page(request, "status/sms_subscribe.html", status=status, form=form, refusal=refusal)
    if wait:
        response["Retry-After"] = str(wait)
    return response


@login_not_required
@require_http_methods(["GET", "HEAD", "POST"])
def sms_subscribe(request):
    _require_sms()
    if request.method != "POST":
        return _subscribe_page(request, SmsSubscribeForm())
    # Each request may cost a text message: counted per client first, then (once the number is known) per number.
    wait = sms.client_wait(request)
    if wait:
        form = SmsSubscribeForm(initial={"phone": request.POST.get("phone", "")[:32]})
        return _subscribe_page(request, form, 429, "Too many SMS subscription requests have come from your network. "
                               f"Nothing was sent; please try again {ratelimit.describe_wait(wait)}.", wait)
    form = SmsSubscribeForm(request.POST)
    if not form.is_valid():
        return _subscribe_page(request, form, 400)
    wait = sms.number_wait(form.cleaned_data["phone"])
    if wait:
        return _subscribe_page(request, form, 429, "Codes for this number have been asked for too often. If you asked "
                               "for one, use the code in the most recent text message; otherwise please try again "
                               f"{ratelimit.describe_wait(wait)}.", wait)
    if sms.too_many_waiting():
        return _subscribe_page(request, form, 429, "Too many SMS subscriptions are waiting for their code right now. "
                               "Nothing was sent; please try again later, or subscribe by email.", 3600)
    try:
        token = sms.subscribe(form.cleaned_data["phone"], form.cleaned_data["components"],
                              groups=form.cleaned_data["groups"])
    except sms.CodeNotSent as refusal:
        return _subscribe_page(request, form, 422, str(refusal))
    return redirect("status-sms-verify", token=token)


@login_not_required
@require_http_methods(["GET", "HEAD", "POST"])
def sms_verify(request, token):
    """The code page. The same page and answers whether or not a code waits here, so it tells nothing about a number;
    it never names the number."""
    _require_sms()
    form = SmsCodeForm(request.POST if request.method == "POST" else None)
    context = {"form": form, "ttl_minutes": settings.SMS_CODE_TTL_MINUTES}
    if request.method != "POST":
        return _page(request, "status/sms_verify.html", **context)
    if not form.is_valid():
        return _page(request, "status/sms_verify.html", status=400, **context)
    outcome = sms.verify(token, form.cleaned_data["code"])
    if outcome.result is sms.Verification.CONFIRMED:
        return _page(
            request,
            "status/notice.html",
            title="Subscription confirmed",
            text=f"This number will now receive {settings.STATUS_PAGE_NAME} status updates by text message. Reply "
            "STOP to any of them to unsubscribe.",
        )
    if outcome.result is sms.Verification.EXPIRED:
        refusal = ("This code has expired or was tried too many times. Ask for a new code: nothing will be sent to "
                   "the number until a new one is typed here.")
        return _page(request, "status/sms_verify.html", status=410, refusal=refusal, expired=True, **context)
    # No count of the tries left: a page for a number that already receives updates confirms nothing, and a count
    # would tell it apart from a real one (who subscribes to the page).
    refusal = "That code is not right, or it is not the latest one. Check the most recent text message from us."
    return _page(request, "status/sms_verify.html", status=400, refusal=refusal, **context)


def _signed_by_twilio(request) -> bool:
    """X-Twilio-Signature: an HMAC of the full public URL Twilio called (SITE_URL + path, not the Host header, which
    a proxy may rewrite) and the POST parameters, keyed by the account's auth token."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not settings.TWILIO_AUTH_TOKEN:
        return False
    url = settings.SITE_URL + request.get_full_path()
    return RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(url, request.POST, signature)


# Twilio posts replies here (the number's "A message comes in" webhook): no cookie, no CSRF token; the signature is
# the proof. Twilio sends its own STOP/START confirmations when Advanced Opt-Out is on, so the answer is empty.
@login_not_required
@csrf_exempt
@require_POST
def sms_inbound(request):
    if not _signed_by_twilio(request):
        return HttpResponseForbidden("The X-Twilio-Signature does not match.", content_type="text/plain")
    phone = request.POST.get("From", "")
    try:
        phone = sms.normalise_phone(phone)
    except ValidationError:
        phone = None  # a short code or an alphanumeric sender: nobody we text
    if phone:
        sms.handle_reply(phone, request.POST.get("Body", ""), request.POST.get("OptOutType", ""))
    return HttpResponse(EMPTY_TWIML, content_type="text/xml; charset=utf-8")
