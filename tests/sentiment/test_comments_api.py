"""Blog and site comments posted to POST /api/v1/mentions/comments/ (WordPress- or Disqus-style) by a comment site,
authenticated by its token or an HMAC signature of the body, stored as mentions through ingest."""

import hashlib
import hmac
import json
import time

import pytest
from rest_framework.test import APIClient

from sentiment.choices import Source
from sentiment.models import CommentSite, Mention

pytestmark = pytest.mark.django_db

URL = "/api/v1/mentions/comments/"


def make_site(**fields) -> tuple[CommentSite, str]:
    site = CommentSite(name=fields.pop("name", "Engineering blog"), url="https://blog.example.com", **fields)
    token = site.issue_token()
    site.save()
    return site, token


@pytest.fixture
def site():
    return make_site()


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def post(client: APIClient, body, **headers):
    return client.post(URL, data=json.dumps(body), content_type="application/json", **headers)


def wordpress(comment_id=101, **fields) -> dict:
    return {
        "comment_ID": str(comment_id), "comment_post_ID": "55", "comment_author": "Carol Jones",
        "comment_author_email": "carol@bigcustomer.example",
        "comment_content": "<p>Your checkout has been <b>down</b> for an hour &amp; nobody answers.</p>",
        "comment_date_gmt": "2026-12-07 09:15:00", "comment_approved": "1",
        "comment_link": "https://blog.example.com/2026/12/outage/#comment-101", **fields,
    }


def disqus(comment_id="7001", **fields) -> dict:
    return {
        "id": comment_id, "raw_message": "Still broken for me, terrible", "message": "<p>Still broken for me</p>",
        "createdAt": "2026-12-07T09:20:00", "isSpam": False, "isDeleted": False, "parent": None,
        "author": {"name": "Dan", "username": "dan_42", "profileUrl": "https://disqus.com/by/dan_42/"},
        "thread": {"id": "9001", "link": "https://blog.example.com/2026/12/outage/"},
        "url": "https://blog.example.com/2026/12/outage/#comment-7001", **fields,
    }


def test_a_wordpress_comment_is_stored_as_a_blog_mention_with_its_author_time_and_link(site):
    blog, token = site

    response = post(bearer(token), wordpress())

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["created"], body["duplicates"], body["skipped"], body["errors"]) == (1, 0, 0, 0)
    mention = Mention.objects.get()
    assert body["results"] == [{"index": 0, "status": "created", "id": mention.pk, "external_id": f"{blog.pk}:101"}]
    assert mention.source == Source.BLOG and mention.external_id == f"{blog.pk}:101"
    assert mention.text == "Your checkout has been down for an hour & nobody answers."
    assert (mention.author_name, mention.author_handle) == ("Carol Jones", "carol@bigcustomer.example")
    assert mention.posted_at.isoformat() == "2026-12-07T09:15:00+00:00"
    assert mention.url == "https://blog.example.com/2026/12/outage/#comment-101"
    blog.refresh_from_db()
    assert blog.last_received_at is not None


def test_a_disqus_post_is_stored_with_its_thread_link_when_it_has_no_url_of_its_own(site):
    _, token = site

    response = post(bearer(token), {"comments": [disqus(url=None)]})

    assert response.json()["created"] == 1
    mention = Mention.objects.get()
    assert mention.text == "Still broken for me, terrible" and mention.author_name == "Dan"
    assert mention.url == "https://blog.example.com/2026/12/outage/"


def test_a_first_level_wordpress_comment_keeps_its_post_and_a_reply_the_comment_it_answers(site):
    blog, token = site

    post(bearer(token), [wordpress(101, comment_parent="0"),
                         wordpress(102, comment_parent="101",
                                   comment_link="https://blog.example.com/2026/12/outage/#comment-102")])

    first, reply = Mention.objects.get(external_id=f"{blog.pk}:101"), Mention.objects.get(external_id=f"{blog.pk}:102")
    assert (first.in_reply_to_id, first.in_reply_to_url) == (f"{blog.pk}:post:55",
                                                             "https://blog.example.com/2026/12/outage/")
    assert (reply.in_reply_to_id, reply.in_reply_to_url) == (
        f"{blog.pk}:101", "https://blog.example.com/2026/12/outage/#comment-101")
    assert reply.in_reply_to_id == first.external_id  # the parent's mention is found by it


def test_a_disqus_reply_keeps_the_comment_it_answers_and_a_first_level_one_its_thread(site):
    blog, token = site

    post(bearer(token), [disqus("7001"), disqus("7002", parent=7001)])

    first = Mention.objects.get(external_id=f"{blog.pk}:disqus:7001")
    reply = Mention.objects.get(external_id=f"{blog.pk}:disqus:7002")
    assert (first.in_reply_to_id, first.in_reply_to_url) == (f"{blog.pk}:disqus-thread:9001",
                                                             "https://blog.example.com/2026/12/outage/")
    assert (reply.in_reply_to_id, reply.in_reply_to_url) == (
        f"{blog.pk}:disqus:7001", "https://blog.example.com/2026/12/outage/#comment-7001")


def test_a_comment_whose_post_link_is_not_a_usable_url_is_stored_without_a_thread_link(site):
    blog, token = site

    response = post(bearer(token), wordpress(104, comment_parent="101", post_url="https://blog.example.com/a b/"))

    assert response.json()["created"] == 1
    assert Mention.objects.values_list("in_reply_to_id", "in_reply_to_url").get() == (f"{blog.pk}:101", "")


def test_the_same_comment_posted_again_is_a_duplicate_and_changes_nothing(site):
    _, token = site
    post(bearer(token), wordpress())

    body = post(bearer(token), [wordpress(), wordpress(comment_content="Edited text")]).json()

    assert [result["status"] for result in body["results"]] == ["duplicate", "duplicate"]
    assert body["results"][1]["reason"] == "the same as comment 0"
    assert Mention.objects.get().text.startswith("Your checkout")


def test_two_sites_with_the_same_comment_id_are_two_mentions(site):
    _, token = site
    _, other = make_site(name="Docs site")

    post(bearer(token), wordpress(101))
    post(bearer(other), wordpress(101))

    assert Mention.objects.count() == 2


def test_each_comment_gets_its_result_spam_is_skipped_and_bad_ones_say_why(site):
    blog, token = site
    body = post(bearer(token), [
        wordpress(1), wordpress(2, comment_approved="spam"), wordpress(3, comment_date_gmt="yesterday"),
        disqus("8", isDeleted=True), {"hello": "world"}, "text", wordpress(4, comment_content="  "),
    ]).json()

    assert [result["status"] for result in body["results"]] == [
        "created", "skipped", "error", "skipped", "error", "error", "error"]
    assert body["results"][1]["reason"] == "the comment is marked spam"
    assert body["results"][2]["reason"] == (
        "comment_date_gmt must be the comment's time in UTC, e.g. 2026-12-07 09:15:00.")
    assert body["results"][4]["reason"].startswith("Neither a WordPress-style comment")
    assert body["results"][5]["reason"] == "Each comment must be an object."
    assert body["results"][6]["reason"] == "comment_content must be the comment's text."
    assert (body["created"], body["skipped"], body["errors"]) == (1, 2, 4)
    assert list(Mention.objects.values_list("external_id", flat=True)) == [f"{blog.pk}:1"]


@pytest.mark.parametrize("body", ["not json at all", "[1, 2", '{"comments": "none"}', "42"])
def test_a_body_that_is_not_comments_is_a_400_in_the_error_shape(site, body):
    _, token = site
    response = bearer(token).post(URL, data=body, content_type="application/json")
    assert response.status_code == 400
    assert {"status", "code", "message"} <= set(response.json())
    assert not Mention.objects.exists()


def test_more_comments_than_the_bulk_limit_is_413(site, settings):
    settings.MENTIONS_BULK_LIMIT = 2
    _, token = site
    response = post(bearer(token), [wordpress(1), wordpress(2), wordpress(3)])
    assert response.status_code == 413 and response.json()["code"] == "too_large"
    assert not Mention.objects.exists()


def _error(response, status: int) -> dict:
    body = response.json()
    assert response.status_code == status, body
    assert set(body) == {"status", "code", "message"} and body["status"] == status
    return body


def test_no_credentials_is_401(site):
    response = post(APIClient(), wordpress())
    _error(response, 401)
    assert response["WWW-Authenticate"] == 'Bearer realm="comments"'
    assert not Mention.objects.exists()


@pytest.mark.parametrize("token", ["wrong", "x" * 40, ""])
def test_a_wrong_token_is_401(site, token):
    _error(post(bearer(token), wordpress()), 401)
    assert not Mention.objects.exists()


def test_a_token_one_character_off_is_401(site):
    _, token = site
    _error(post(bearer(token[:-1] + ("A" if token[-1] != "A" else "B")), wordpress()), 401)


def test_a_disabled_sites_token_is_401():
    _, token = make_site(enabled=False)
    assert "disabled" in _error(post(bearer(token), wordpress()), 401)["message"]


def test_a_users_api_token_is_refused_403_whatever_the_role(api_as, lead):
    _error(api_as(lead).post(URL, wordpress(), format="json"), 403)
    assert not Mention.objects.exists()


def test_the_token_is_stored_only_as_a_digest(site):
    blog, token = site
    stored = CommentSite.objects.filter(pk=blog.pk).values().get()
    assert token not in json.dumps(stored, default=str)
    assert stored["token_digest"] == hashlib.sha256(token.encode()).hexdigest()


def signed_site() -> tuple[CommentSite, str]:
    blog, _ = make_site()
    secret = blog.issue_hmac_secret()
    blog.save()
    return blog, secret


@pytest.mark.parametrize("prefix", ["sha256=", ""])
def test_an_hmac_signature_of_the_raw_body_authenticates_the_named_site(prefix):
    blog, secret = signed_site()
    raw = json.dumps(wordpress()).encode()
    signature = prefix + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()

    response = APIClient().post(URL, data=raw, content_type="application/json",
                                HTTP_X_SIGNATURE=signature, HTTP_X_COMMENT_SITE=str(blog.pk))

    assert response.status_code == 200 and response.json()["created"] == 1


def test_a_signature_of_other_bytes_or_another_secret_or_no_named_site_is_401():
    blog, secret = signed_site()
    raw = json.dumps(wordpress()).encode()
    other_bytes = hmac.new(secret.encode(), raw + b" ", hashlib.sha256).hexdigest()
    other_secret = hmac.new(b"not the secret", raw, hashlib.sha256).hexdigest()
    right = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    for signature, site_id in ((other_bytes, str(blog.pk)), (other_secret, str(blog.pk)), (right, ""),
                               (right, "99999"), (right, "١")):
        response = APIClient().post(URL, data=raw, content_type="application/json",
                                    HTTP_X_SIGNATURE=signature, HTTP_X_COMMENT_SITE=site_id)
        _error(response, 401)
    assert not Mention.objects.exists()


def test_a_timestamped_signature_is_accepted_when_fresh_and_refused_when_old():
    blog, secret = signed_site()
    raw = json.dumps(wordpress()).encode()

    def send(stamp: int):
        signature = hmac.new(secret.encode(), f"{stamp}:".encode() + raw, hashlib.sha256).hexdigest()
        return APIClient().post(URL, data=raw, content_type="application/json", HTTP_X_SIGNATURE=signature,
                                HTTP_X_COMMENT_SITE=str(blog.pk), HTTP_X_SIGNATURE_TIMESTAMP=str(stamp))

    assert send(int(time.time())).status_code == 200
    assert "within 300 s" in _error(send(int(time.time()) - 3600), 401)["message"]


def test_a_site_without_a_signing_secret_refuses_signatures(site):
    blog, _ = site
    raw = json.dumps(wordpress()).encode()
    response = APIClient().post(URL, data=raw, content_type="application/json", HTTP_X_SIGNATURE="sha256=00",
                                HTTP_X_COMMENT_SITE=str(blog.pk))
    assert "no signing secret" in _error(response, 401)["message"]
