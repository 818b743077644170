"""Comments from our blogs and sites, posted to POST /api/v1/mentions/comments/ (sentiment/api/comment_views.py), as
mentions with source "blog", stored through sentiment.ingest (idempotent by site and comment id).

Two shapes are read, one comment or many (a list, or {"comments": [...]}; Disqus API answers' {"response": [...]}):

- **WordPress-style**, the fields of a WordPress comment (as the `wp_insert_comment` hook and webhook plugins send
  them): `comment_ID`, `comment_post_ID`, `comment_author`, `comment_author_email`, `comment_content`,
  `comment_date_gmt` ("2026-12-07 09:15:00", UTC) and `comment_link` or `post_url`; `comment_parent` and
  `comment_approved` ("spam" and "trash" are skipped) when present.
- **Disqus-style**, a Disqus post object: `id`, `raw_message` (or `message`, HTML), `createdAt` (UTC), `author`
  ({`name`, `username`, `email`}), `thread` (an id or {`id`, `link`}), `url`, `parent`, `isSpam`, `isDeleted`.

The comment's author email, when given, is kept as the author handle: the account seam matches an email's domain to
a customer account, as for mentions from email.

Each mention keeps its thread: a reply names the comment it answers (`comment_parent`, Disqus `parent`) in the form
of the comments' own external ids ("<site>:<id>", "<site>:disqus:<id>"), so that the parent's mention is found by
it, with its address (the post's link and `#comment-<id>`, the anchor WordPress and Disqus give each comment); a
first-level comment names its post ("<site>:post:<id>", "<site>:disqus-thread:<id>") and the post's link.
"""

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from django.utils.dateparse import parse_datetime
from django.utils.html import strip_tags

from core.validators import whole_number
from sentiment.choices import Source
from sentiment.ingest import ingest, usable_url

_BREAKS = re.compile(r"<br\s*/?>|</p>\s*<p>", re.IGNORECASE)
_ID = re.compile(r"[A-Za-z0-9_-]{1,60}")
_SAME_AS = re.compile(r"the same as item (\d+)")
SKIPPED_STATUSES = frozenset({"spam", "trash", "post-trashed"})


class PayloadError(ValueError):
    """The body as a whole is not comments in a known shape (a 400)."""


@dataclass
class Skipped:
    index: int
    external_id: str
    reason: str

    def as_dict(self) -> dict:
        return {"index": self.index, "status": "skipped", "external_id": self.external_id, "reason": self.reason}


def comment_list(payload) -> list:
    """The comments of a body: one object, a list, {"comments": [...]} or {"response": [...]}."""
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict):
        for key in ("comments", "response"):
            if key in payload:
                if not isinstance(payload[key], list):
                    raise PayloadError(f"{key} must be a list of comments.")
                return payload[key]
        return [payload]
    raise PayloadError("Send a comment (an object), a list of comments, or {\"comments\": [...]}.")


def plain_text(content: str) -> str:
    """A comment's HTML as people read it: line breaks kept, tags dropped, entities decoded."""
    return html.unescape(strip_tags(_BREAKS.sub("\n", content))).strip()


def _utc(value) -> str | None:
    """A WordPress or Disqus UTC time ("2026-12-07 09:15:00", "2026-12-07T09:15:00", with or without an offset) as
    ISO 8601 with its zone; None when it is not a time."""
    if not isinstance(value, str):
        return None
    try:
        moment = parse_datetime(value.strip().replace(" ", "T", 1))
    except ValueError:  # well formed but impossible: "9999-99-99 99:99:99", "+99:00", February 30th
        return None
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()


def _comment_id(value) -> str | None:
    number = whole_number(value)
    if number is not None:
        return str(number)
    return value if isinstance(value, str) and _ID.fullmatch(value) else None


def from_wordpress(site, comment: dict) -> dict | str:
    """The mention of a WordPress-style comment, or the sentence saying what is wrong with it."""
    comment_id = _comment_id(comment.get("comment_ID"))
    if comment_id is None:
        return "comment_ID must be the comment's id (digits)."
    if str(comment.get("comment_approved", "")).lower() in SKIPPED_STATUSES:
        return Skipped(0, f"{site.pk}:{comment_id}", f"the comment is marked {comment['comment_approved']}")
    content = comment.get("comment_content")
    posted_at = _utc(comment.get("comment_date_gmt"))
    problems = []
    if not isinstance(content, str) or not plain_text(content):
        problems.append("comment_content must be the comment's text")
    if posted_at is None:
        problems.append("comment_date_gmt must be the comment's time in UTC, e.g. 2026-12-07 09:15:00")
    if problems:
        return "; ".join(problems) + "."
    email, author = comment.get("comment_author_email"), comment.get("comment_author")
    link = comment.get("comment_link") or comment.get("post_url") or ""
    post_link = comment.get("post_url") or comment.get("comment_link") or ""
    post_link = post_link.split("#", 1)[0] if isinstance(post_link, str) else ""
    parent, post = _comment_id(comment.get("comment_parent")), _comment_id(comment.get("comment_post_ID"))
    return {
        "source": Source.BLOG,
        "external_id": f"{site.pk}:{comment_id}",
        "text": plain_text(content),
        "posted_at": posted_at,
        "author_handle": email.strip() if isinstance(email, str) else "",
        "author_name": author.strip()[:200] if isinstance(author, str) else "",
        "url": link if isinstance(link, str) else "",
        **_thread(f"{site.pk}:{parent}" if parent not in (None, "0") else "",
                  f"{site.pk}:post:{post}" if post not in (None, "0") else "", parent, post_link),
    }


def from_disqus(site, post: dict) -> dict | str:
    """The mention of a Disqus-style post, or the sentence saying what is wrong with it."""
    comment_id = _comment_id(post.get("id"))
    if comment_id is None:
        return "id must be the comment's id."
    if post.get("isSpam") is True or post.get("isDeleted") is True:
        return Skipped(0, f"{site.pk}:{comment_id}",
                       "the comment is marked spam" if post.get("isSpam") is True else "the comment was deleted")
    content = post.get("raw_message") if isinstance(post.get("raw_message"), str) else post.get("message")
    posted_at = _utc(post.get("createdAt"))
    problems = []
    if not isinstance(content, str) or not plain_text(content):
        problems.append("raw_message (or message) must be the comment's text")
    if posted_at is None:
        problems.append("createdAt must be the comment's time in UTC, e.g. 2026-12-07T09:15:00")
    if problems:
        return "; ".join(problems) + "."
    author = post.get("author") if isinstance(post.get("author"), dict) else {}
    thread = post.get("thread") if isinstance(post.get("thread"), dict) else {"id": post.get("thread")}
    link = post.get("url") or thread.get("link") or ""
    email, name = author.get("email"), author.get("name") or author.get("username")
    post_link = thread.get("link") if isinstance(thread.get("link"), str) else ""
    parent, thread_id = _comment_id(post.get("parent")), _comment_id(thread.get("id"))
    return {
        "source": Source.BLOG,
        "external_id": f"{site.pk}:disqus:{comment_id}",
        "text": plain_text(content),
        "posted_at": posted_at,
        "author_handle": email.strip() if isinstance(email, str) else "",
        "author_name": name.strip()[:200] if isinstance(name, str) else "",
        "url": link if isinstance(link, str) else "",
        **_thread(f"{site.pk}:disqus:{parent}" if parent not in (None, "0") else "",
                  f"{site.pk}:disqus-thread:{thread_id}" if thread_id is not None else "", parent, post_link),
    }


def _thread(parent_ref: str, post_ref: str, parent_id: str | None, post_link: str) -> dict:
    """in_reply_to_id and in_reply_to_url of a comment: the comment it answers when it is a reply, else its post."""
    if parent_ref:
        anchor = f"{post_link.split('#', 1)[0]}#comment-{parent_id}" if post_link else ""
        return {"in_reply_to_id": parent_ref, "in_reply_to_url": usable_url(anchor)}
    return {"in_reply_to_id": post_ref, "in_reply_to_url": usable_url(post_link)}


def mention_from(site, comment) -> dict | str | Skipped:
    if not isinstance(comment, dict):
        return "Each comment must be an object."
    if "comment_ID" in comment:
        return from_wordpress(site, comment)
    if "id" in comment and ("raw_message" in comment or "message" in comment):
        return from_disqus(site, comment)
    return ("Neither a WordPress-style comment (comment_ID, comment_content, comment_date_gmt, …) nor a "
            "Disqus-style one (id, raw_message, createdAt, author, …).")


def receive_comments(site, comments: list) -> list[dict]:
    """Store a site's comments as mentions; one result per comment, in order: created, duplicate, skipped (spam,
    deleted) or error with the reason."""
    results: dict[int, dict] = {}
    valid: list[tuple[int, dict]] = []
    for index, comment in enumerate(comments):
        found = mention_from(site, comment)
        if isinstance(found, Skipped):
            found.index = index
            results[index] = found.as_dict()
        elif isinstance(found, str):
            results[index] = {"index": index, "status": "error", "reason": found}
        else:
            valid.append((index, found))
    for (index, _), result in zip(valid, ingest([item for _, item in valid], default_source=Source.BLOG),
                                  strict=True):
        found = result.as_dict()
        same = _SAME_AS.fullmatch(found.get("reason", ""))
        if same:  # ingest numbers the comments it was given; the caller's numbering is the one to report
            found["reason"] = f"the same as comment {valid[int(same.group(1))][0]}"
        results[index] = {**found, "index": index}
    site.last_received_at = datetime.now(UTC)
    site.save(update_fields=["last_received_at"])
    return [results[index] for index in range(len(comments))]
