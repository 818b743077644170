"""SMS subscribers through Twilio, against a local fake of its REST API (tests/fakes/twilio.py): opt-in by code,
delivery exactly once, STOP/START through the signed inbound webhook, error mapping, abuse limits, privacy."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from comms import delivery, sms
from comms.channels import get_transport
from comms.choices import Audience, DeliveryStatus, MessageState
from comms.delivery.dispatch import fan_out
from comms.models import Delivery, SmsSubscriber
from comms.rendering import render_all, render_sms
from comms.sms_text import segment_count
from tests.comms.helpers import scheduled_message
from tests.factories import ComponentFactory, IncidentFactory
from tests.fakes.twilio import (
    ACCOUNT_SID,
    FROM_NUMBER,
    MESSAGES_PATH,
    configured_twilio,
    sign,
    twilio_error,
)
from tests.test_settings import manage_check

pytestmark = pytest.mark.django_db

NUMBER = "+447911123456"
SITE = "https://status.example.com"


@pytest.fixture
def twilio(settings):
    with configured_twilio(settings) as fake:
        settings.SITE_URL = SITE
        yield fake


def ask_for_code(client, phone=NUMBER, **fields):
    return client.post(reverse("status-sms-subscribe"), {"phone": phone, **fields})


def code_in(text: str) -> str:
    return re.search(r"\b(\d{6})\b", text).group(1)


def subscribed(client, twilio, phone=NUMBER, **fields) -> SmsSubscriber:
    """A number that went through the whole opt-in: code asked for, texted, typed back."""
    response = ask_for_code(client, phone, **fields)
    assert response.status_code == 302
    confirm = client.post(response["Location"], {"code": code_in(twilio.texts_to(phone)[-1])})
    assert confirm.status_code == 200
    return SmsSubscriber.objects.get(phone=phone)


def send_due():
    delivery.dispatch_due_messages()
    ids = list(Delivery.objects.filter(status=DeliveryStatus.QUEUED).values_list("pk", flat=True))
    return delivery.send_deliveries(ids)


def make_due():
    Delivery.objects.update(next_attempt_at=timezone.now())


def confirmed(phone=NUMBER, components=()) -> SmsSubscriber:
    subscriber = SmsSubscriber.objects.create(phone=phone, confirmed_at=timezone.now())
    subscriber.components.set(components)
    return subscriber


# --- The number ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["+44 7700 900123", "+44 (0) 7700-900123".replace("(0) ", ""), "+447700900123",
                                   " +44-7700-900-123 ", "＋４４７７００９００１２３"])
def test_a_number_with_spaces_dashes_or_brackets_is_stored_in_e164(typed):
    assert sms.normalise_phone(typed) == "+447700900123"


@pytest.mark.parametrize("typed", ["07700 900123", "447700900123", "+0447700900123", "+4477", "+1234567890123456",
                                   "+44 7700 900123 ext 2", "+44.7700.900123", "tel:+447700900123", ""])
def test_anything_but_an_international_number_is_refused(typed):
    with pytest.raises(Exception, match="international format"):
        sms.normalise_phone(typed)


def test_the_form_refuses_a_number_without_country_code_with_a_clear_error_and_texts_nothing(twilio):
    response = ask_for_code(Client(), "07700 900123")

    assert response.status_code == 400
    assert "international format" in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert twilio.requests == [] and not SmsSubscriber.objects.exists()


# --- Opt-in by code -------------------------------------------------------------------------------------------


def test_subscribing_texts_only_a_code_which_is_kept_hashed_and_confirms_the_number(twilio):
    client = Client()
    response = ask_for_code(client, "+44 7911 123456")

    assert response.status_code == 302
    [call] = twilio.calls("POST", MESSAGES_PATH)
    assert call.body["To"] == NUMBER and call.body["From"] == FROM_NUMBER
    code = code_in(call.body["Body"])
    assert "http" not in call.body["Body"]  # a code, no link
    subscriber = SmsSubscriber.objects.get()
    assert subscriber.confirmed_at is None and code not in subscriber.code_hash and len(subscriber.code_hash) == 64
    page = client.get(response["Location"])
    assert page.status_code == 200 and "123456" not in page.content.decode()

    confirmation = client.post(response["Location"], {"code": f" {code[:3]} {code[3:]} "})

    assert confirmation.status_code == 200 and "Subscription confirmed" in confirmation.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.receives_updates and subscriber.code_hash == ""
    again = client.post(response["Location"], {"code": code})
    assert again.status_code == 400  # the page's token changed: the code works once
    assert len(twilio.sent) == 1


def test_a_wrong_code_counts_a_try_and_after_the_last_one_even_the_right_code_needs_a_new_one(twilio, settings):
    settings.SMS_CODE_MAX_ATTEMPTS = 3
    client = Client()
    page = ask_for_code(client)["Location"]
    code = code_in(twilio.sent[-1]["body"])
    wrong = "000000" if code != "000000" else "111111"

    first = client.post(page, {"code": wrong})
    assert first.status_code == 400 and "not right" in first.content.decode()
    assert "tries left" not in first.content.decode()  # a count would tell a real code page from a decoy
    assert client.post(page, {"code": wrong}).status_code == 400
    assert client.post(page, {"code": wrong}).status_code == 400
    last = client.post(page, {"code": code})

    assert last.status_code == 410 and "Ask for a new code" in last.content.decode()
    assert SmsSubscriber.objects.get().confirmed_at is None


def test_a_code_that_is_not_six_digits_is_a_form_error_and_costs_no_try(twilio):
    client = Client()
    page = ask_for_code(client)["Location"]

    response = client.post(page, {"code": "12ab"})

    assert response.status_code == 400 and "6 digits" in response.content.decode()
    assert SmsSubscriber.objects.get().code_attempts == 0


def test_an_expired_code_is_refused_even_when_right(twilio, settings):
    client = Client()
    page = ask_for_code(client)["Location"]
    code = code_in(twilio.sent[-1]["body"])
    SmsSubscriber.objects.update(
        code_sent_at=timezone.now() - timezone.timedelta(minutes=settings.SMS_CODE_TTL_MINUTES, seconds=1))

    response = client.post(page, {"code": code})

    assert response.status_code == 410
    assert SmsSubscriber.objects.get().confirmed_at is None


def test_a_new_code_replaces_the_old_one(twilio):
    client = Client()
    first_page = ask_for_code(client)["Location"]
    old_code = code_in(twilio.sent[-1]["body"])
    second_page = ask_for_code(client)["Location"]
    new_code = code_in(twilio.sent[-1]["body"])

    assert client.post(first_page, {"code": old_code}).status_code == 400
    assert client.post(second_page, {"code": old_code}).status_code == 400 or old_code == new_code
    assert client.post(second_page, {"code": new_code}).status_code == 200
    assert SmsSubscriber.objects.get().receives_updates


def test_a_confirmed_number_gets_no_new_code_and_keeps_its_choices_while_the_visitor_sees_the_same_answer(twilio):
    database, api = ComponentFactory(name="Database"), ComponentFactory(name="API")
    subscriber = confirmed(components=[database])

    response = ask_for_code(Client(), components=[api.pk])

    assert response.status_code == 302 and "/status/subscribe/sms/" in response["Location"]
    assert twilio.sent == []
    assert list(subscriber.components.all()) == [database]


def test_a_number_twilio_refuses_is_told_clearly_and_nothing_waits_for_a_code(twilio):
    twilio.landlines.add(NUMBER)

    response = ask_for_code(Client())

    assert response.status_code == 422
    assert "could not send a text message to this number" in response.content.decode()
    assert SmsSubscriber.objects.get().code_hash == ""


def test_a_number_that_replied_stop_gets_the_answer_any_unreachable_number_gets_with_the_reply_start_hint(twilio):
    twilio.opted_out.add(NUMBER)
    stopped = ask_for_code(Client())
    twilio.opted_out.discard(NUMBER)
    twilio.fail_next(MESSAGES_PATH, 400,
                     body={"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400})
    invalid = ask_for_code(Client())

    assert stopped.status_code == invalid.status_code == 422
    assert "reply START" in stopped.content.decode()
    assert stopped.content.decode().count("STOP") == invalid.content.decode().count("STOP")


# --- Delivery -------------------------------------------------------------------------------------------------


def test_an_approved_public_message_is_texted_once_to_each_confirmed_subscriber_only(twilio, lead):
    subscribed(Client(), twilio)
    ask_for_code(Client(), "+447700900456")  # never confirmed
    opted_out = confirmed("+447700900789")
    SmsSubscriber.objects.filter(pk=opted_out.pk).update(opted_out_at=timezone.now())
    codes_sent = len(twilio.sent)
    message = scheduled_message(lead, channels=["statuspage", "sms"])

    outcome = send_due()
    again = delivery.send_deliveries(list(Delivery.objects.values_list("pk", flat=True)))

    assert outcome.sent == 2 and again.sent == 0  # the status page and the one confirmed number
    texts = twilio.sent[codes_sent:]
    assert [text["to"] for text in texts] == [NUMBER]
    body = texts[0]["body"]
    assert body.startswith("Example Inc.: Checkout is failing for some customers - Payments fail at checkout")
    assert body.endswith(f"\n{SITE}/status/\nReply STOP to unsubscribe")
    row = Delivery.objects.get(channel="sms")
    assert (row.status, row.external_id) == (DeliveryStatus.SENT, texts[0]["sid"])
    assert row.external_id.startswith("SM")
    message.refresh_from_db()
    assert message.state == MessageState.SENT


def test_subscribers_who_chose_components_get_only_updates_about_them(twilio, lead):
    database, api = ComponentFactory(name="Database"), ComponentFactory(name="API")
    confirmed("+447700900001", components=[database])
    confirmed("+447700900002", components=[api])
    confirmed("+447700900003")  # everything
    incident = IncidentFactory(title="Slow queries")
    incident.components.set([database])
    scheduled_message(lead, incident=incident, channels=["sms"])

    send_due()

    assert sorted(text["to"] for text in twilio.sent) == ["+447700900001", "+447700900003"]


def test_a_long_update_is_cut_to_the_segments_allowed_and_still_ends_with_the_link_and_stop(twilio, lead, settings):
    settings.SMS_MAX_SEGMENTS = 2
    confirmed()
    scheduled_message(lead, channels=["sms"], explain="Payments fail at checkout for some cards. " * 40)

    send_due()

    [text] = twilio.sent
    assert segment_count(text["body"]) == 2 and text["num_segments"] == "2"
    assert text["body"].endswith(f"...\n{SITE}/status/\nReply STOP to unsubscribe")


def test_an_internal_message_never_goes_by_sms(twilio, lead):
    confirmed()
    transport = get_transport("sms")
    internal = scheduled_message(lead, channels=["email"], audience=Audience.INTERNAL)

    assert Audience.INTERNAL not in transport.audiences
    assert list(transport.recipients(internal)) == []
    with pytest.raises(Exception, match="SMS is public"):
        scheduled_message(lead, channels=["sms"], audience=Audience.INTERNAL)
    send_due()
    assert twilio.sent == []


def test_a_number_that_opted_out_after_the_fan_out_is_skipped(twilio, lead):
    subscriber = confirmed()
    message = scheduled_message(lead, channels=["sms"])
    fan_out(message)
    SmsSubscriber.objects.filter(pk=subscriber.pk).update(opted_out_at=timezone.now())

    outcome = delivery.send_deliveries(list(Delivery.objects.values_list("pk", flat=True)))

    assert outcome.skipped == 1 and twilio.sent == []


def test_a_429_is_retried_after_the_wait_twilio_gives_and_sent_once(twilio, lead):
    confirmed()
    twilio.fail_next(MESSAGES_PATH, 429, headers={"Retry-After": "120"},
                     body=twilio_error(429, 20429, "Too Many Requests"))
    scheduled_message(lead, channels=["sms"])

    outcome = send_due()

    assert outcome.sent == 0 and outcome.retry_in >= 120
    row = Delivery.objects.get()
    assert row.status == DeliveryStatus.QUEUED and "429" in row.last_error
    make_due()
    assert delivery.send_deliveries([row.pk]).sent == 1
    assert len(twilio.sent) == 1


def test_a_twilio_server_error_is_retried(twilio, lead):
    confirmed()
    twilio.fail_next(MESSAGES_PATH, 503, body=twilio_error(503, 20503, "Service unavailable"))
    scheduled_message(lead, channels=["sms"])

    outcome = send_due()

    assert outcome.retry_ids and Delivery.objects.get().status == DeliveryStatus.QUEUED
    make_due()
    assert delivery.send_deliveries(outcome.retry_ids).sent == 1


def test_twilio_that_cannot_be_reached_is_retried(twilio, lead, settings):
    confirmed()
    settings.TWILIO_API_BASE_URL = "http://127.0.0.1:9"  # discard port: connection refused
    scheduled_message(lead, channels=["sms"])

    outcome = send_due()

    row = Delivery.objects.get()
    assert outcome.sent == 0 and row.status == DeliveryStatus.QUEUED
    assert "could not be reached" in row.last_error


def test_21610_is_a_permanent_failure_that_opts_the_number_out(twilio, lead):
    subscriber = confirmed()
    twilio.opted_out.add(NUMBER)
    scheduled_message(lead, channels=["sms"])

    outcome = send_due()

    assert outcome.failed == 1
    row = Delivery.objects.get()
    assert row.status == DeliveryStatus.FAILED and "21610" in row.last_error
    subscriber.refresh_from_db()
    assert subscriber.opted_out_at is not None


@pytest.mark.parametrize("refusal", ["landline", "invalid"])
def test_an_invalid_number_is_a_permanent_failure(twilio, lead, refusal):
    confirmed()
    (twilio.landlines if refusal == "landline" else twilio.invalid).add(NUMBER)
    scheduled_message(lead, channels=["sms"])

    outcome = send_due()

    assert outcome.failed == 1
    row = Delivery.objects.get()
    assert row.status == DeliveryStatus.FAILED
    assert ("21614" if refusal == "landline" else "21211") in row.last_error


def test_refused_credentials_are_a_permanent_failure_naming_the_variables(twilio, lead, settings):
    confirmed()
    settings.TWILIO_AUTH_TOKEN = "revoked"
    scheduled_message(lead, channels=["sms"])

    outcome = send_due()

    assert outcome.failed == 1 and outcome.retry_ids == []
    row = Delivery.objects.get()
    assert "TWILIO_AUTH_TOKEN" in row.last_error and "401" in row.last_error
    assert twilio.sent == []


def test_a_messaging_service_sends_instead_of_a_number_when_configured(twilio, lead, settings):
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "0" * 32
    confirmed()
    scheduled_message(lead, channels=["sms"])

    send_due()

    [call] = twilio.calls("POST", MESSAGES_PATH)
    assert call.body["MessagingServiceSid"] == "MG" + "0" * 32 and "From" not in call.body


# --- Replies: the inbound webhook -------------------------------------------------------------------------------


def reply(body, phone=NUMBER, signature=None, **extra):
    params = {"MessageSid": "SM" + "1" * 32, "AccountSid": ACCOUNT_SID, "From": phone, "To": FROM_NUMBER,
              "Body": body, **extra}
    url = SITE + reverse("sms-inbound")
    headers = {} if signature == "" else {"X-Twilio-Signature": signature or sign(url, params)}
    return Client().post(reverse("sms-inbound"), params, headers=headers)


@pytest.mark.parametrize("word", ["STOP", " stop ", "StopAll", "UNSUBSCRIBE", "cancel", "END", "quit"])
def test_a_stop_word_opts_the_number_out_and_start_opts_it_back_in(twilio, lead, word):
    subscriber = confirmed()

    response = reply(word)

    assert response.status_code == 200 and response["Content-Type"].startswith("text/xml")
    assert response.content.decode().endswith("<Response/>")
    subscriber.refresh_from_db()
    assert subscriber.opted_out_at is not None
    scheduled_message(lead, channels=["sms"])
    send_due()
    assert twilio.sent == []

    reply("Start")
    subscriber.refresh_from_db()
    assert subscriber.receives_updates


def test_twilio_advanced_opt_out_type_is_trusted_over_the_words(twilio):
    subscriber = confirmed()

    reply("arrêt", OptOutType="STOP")

    subscriber.refresh_from_db()
    assert subscriber.opted_out_at is not None


def test_start_does_not_confirm_a_number_that_never_typed_its_code(twilio):
    ask_for_code(Client())

    reply("START")

    assert SmsSubscriber.objects.get().confirmed_at is None


def test_any_other_reply_changes_nothing(twilio):
    subscriber = confirmed()

    assert reply("Thanks, when will it be fixed?").status_code == 200

    subscriber.refresh_from_db()
    assert subscriber.receives_updates


@pytest.mark.parametrize("signature", ["", "bm90IHRoZSBzaWduYXR1cmU=", "wrong-token"])
def test_a_reply_without_twilios_signature_is_refused_and_changes_nothing(twilio, signature):
    subscriber = confirmed()
    if signature == "wrong-token":
        params = {"MessageSid": "SM" + "1" * 32, "AccountSid": ACCOUNT_SID, "From": NUMBER, "To": FROM_NUMBER,
                  "Body": "STOP"}
        signature = sign(SITE + reverse("sms-inbound"), params, token="someone-elses-token")

    response = reply("STOP", signature=signature)

    assert response.status_code == 403
    subscriber.refresh_from_db()
    assert subscriber.receives_updates


def test_a_signature_for_other_parameters_is_refused(twilio):
    subscriber = confirmed()
    url = SITE + reverse("sms-inbound")
    signed_for = {"From": NUMBER, "Body": "hello"}

    response = reply("STOP", signature=sign(url, signed_for))

    assert response.status_code == 403
    subscriber.refresh_from_db()
    assert subscriber.receives_updates


def test_the_inbound_webhook_refuses_get(twilio):
    assert Client().get(reverse("sms-inbound")).status_code == 405


# --- Abuse limits -------------------------------------------------------------------------------------------------


def test_codes_for_one_number_are_limited_and_the_refusal_is_a_clear_page(twilio, settings):
    settings.SMS_SUBSCRIBE_RATE_PER_NUMBER = (3, 3600)
    for _ in range(3):
        assert ask_for_code(Client()).status_code == 302

    refused = ask_for_code(Client(), "+44 7911-123456")

    assert refused.status_code == 429 and refused["Retry-After"]
    assert "asked for too often" in refused.content.decode()
    assert len(twilio.sent) == 3


def test_codes_asked_for_from_one_client_are_limited(twilio, settings):
    settings.SMS_SUBSCRIBE_RATE_PER_IP = (2, 3600)
    client = Client()
    assert ask_for_code(client, "+447700900001").status_code == 302
    assert ask_for_code(client, "+447700900002").status_code == 302

    refused = ask_for_code(client, "+447700900003")

    assert refused.status_code == 429 and "from your network" in refused.content.decode()
    assert len(twilio.sent) == 2


def test_new_codes_stop_while_too_many_subscriptions_wait_for_theirs(twilio, settings):
    settings.SMS_UNCONFIRMED_LIMIT = 2
    assert ask_for_code(Client(), "+447700900001").status_code == 302
    assert ask_for_code(Client(), "+447700900002").status_code == 302

    refused = ask_for_code(Client(), "+447700900003")

    assert refused.status_code == 429 and "waiting for their code" in refused.content.decode()
    assert len(twilio.sent) == 2
    SmsSubscriber.objects.update(code_sent_at=timezone.now() - timezone.timedelta(days=2))  # a day later
    assert ask_for_code(Client(), "+447700900003").status_code == 302


# --- What must not show -----------------------------------------------------------------------------------------


def test_no_public_surface_shows_a_subscribers_number(twilio, lead):
    subscribed(Client(), twilio)
    scheduled_message(lead, channels=["statuspage", "sms"])
    send_due()
    client = Client()
    pages = ["status-page", "status-feed", "statuspage-summary", "statuspage-incidents", "status-embed",
             "status-sms-subscribe"]

    for name in pages:
        content = client.get(reverse(name)).content.decode()
        assert "7911123456" not in content and "7911 123456" not in content, name


def test_the_status_page_offers_sms_only_when_twilio_is_configured(settings, twilio):
    assert "By text message (SMS)" in Client().get(reverse("status-page")).content.decode()
    settings.TWILIO_CONFIGURED = False
    from comms.statuspage import invalidate_status_page

    invalidate_status_page()
    assert "By text message (SMS)" not in Client().get(reverse("status-page")).content.decode()
    assert Client().get(reverse("status-sms-subscribe")).status_code == 404


# --- Configuration and the composer -------------------------------------------------------------------------------


def test_the_channel_is_not_configured_without_twilio_and_says_which_variables(settings):
    settings.TWILIO_CONFIGURED = False
    transport = get_transport("sms")

    assert not transport.is_configured()
    reason = transport.not_configured_reason()
    assert all(name in reason for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER",
                                           "TWILIO_MESSAGING_SERVICE_SID"))


def test_half_configured_twilio_stops_startup_naming_the_missing_variable(tmp_path):
    result = manage_check(tmp_path, TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN="token")
    assert result.returncode != 0
    assert "TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID must be set" in result.stderr


def test_a_sender_number_that_is_not_e164_stops_startup(tmp_path):
    result = manage_check(tmp_path, TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN="token",
                          TWILIO_FROM_NUMBER="0151 555 0006")
    assert result.returncode != 0
    assert "TWILIO_FROM_NUMBER must be an E.164 number" in result.stderr


def test_the_preview_shows_the_sms_its_length_and_segments(twilio, lead):
    short = scheduled_message(lead, channels=["sms"], headline="Checkout is failing", explain="We are on it.")
    longer = scheduled_message(lead, channels=["sms"], explain="Payments fail at checkout for some cards. " * 3)

    preview, longer_preview = render_all(short).as_dict()["sms"], render_all(longer).as_dict()["sms"]

    assert preview["text"] == render_sms(short)
    assert preview["text"] == ("Example Inc.: Checkout is failing - We are on it."
                               f"\n{SITE}/status/\nReply STOP to unsubscribe")
    assert (preview["segments"], preview["encoding"]) == (1, "GSM-7")
    assert preview["length"] == len(preview["text"]) and preview["limit"] == 3 * 153
    assert longer_preview["segments"] == 2


def test_only_those_who_may_read_subscribers_see_an_sms_deliverys_number_or_it_in_an_error(
        twilio, lead, support):
    from comms.privacy import hides_recipient

    confirmed()
    twilio.fail_next(MESSAGES_PATH, 400, body=twilio_error(400, 21408, f"Permission to send an SMS has not been "
                                                                       f"enabled for the region indicated by {NUMBER}"))
    scheduled_message(lead, channels=["sms"])
    send_due()

    row = Delivery.objects.get()
    assert row.status == DeliveryStatus.FAILED and "21408" in row.last_error
    assert NUMBER not in row.last_error and "[number hidden]" in row.last_error
    assert hides_recipient(row, support) and not hides_recipient(row, lead)


def test_the_code_page_of_a_number_that_already_subscribes_answers_a_wrong_code_like_any_other(twilio):
    """Anyone may type any number: the answers must not tell a subscriber's number from a stranger's."""
    subscribed = "+447911123456"
    SmsSubscriber.objects.create(phone=subscribed, confirmed_at=timezone.now())
    answers = []
    for phone in (subscribed, "+447911654321"):
        client = Client()
        page = client.post(reverse("status-sms-subscribe"), {"phone": phone})["Location"]
        response = client.post(page, {"code": "000000" if phone == subscribed else "999999"})
        page_text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())
        answers.append((response.status_code, page_text.split("<main")[1]))
    assert answers[0] == answers[1]
