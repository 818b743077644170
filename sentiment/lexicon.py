"""The incident vocabulary shipped with the product (VADER valence: −4 … +4). Editable in the admin.

Plain VADER reads “your API is down again” and “thinking about switching after this outage” as neutral
and “refund please” as positive; these terms correct that. Phrases (with spaces) are matched as a whole.
"""

DEFAULT_LEXICON = {
    # outages and failures
    "outage": -2.5, "outages": -2.5, "is down": -2.0, "was down": -1.8, "are down": -2.0, "went down": -1.8,
    "goes down": -1.8, "down for": -1.6, "down since": -2.0, "downtime": -2.2, "not working": -2.2,
    "doesn't work": -2.2,
    "does not work": -2.2, "unusable": -2.6, "unreachable": -2.0, "unavailable": -1.6, "errors": -1.5,
    "error": -1.3, "crashing": -2.0, "crashed": -2.0, "timeout": -1.5, "timeouts": -1.5, "500 error": -1.6,
    "error 500": -1.6, "http 500": -1.6,
    "broken again": -2.8, "down again": -2.8, "yet again": -1.5, "again?": -1.2,
    # waiting
    "still waiting": -2.0, "waiting": -0.9, "hours": -0.3, "no update": -1.8, "no updates": -1.8,
    "radio silence": -2.2, "any update": -1.0, "eta?": -1.0,
    # cancelling, refunds, switching providers
    "cancel": -2.0, "cancelling": -2.2, "canceling": -2.2, "cancellation": -1.8, "refund": -1.8,
    "refunds": -1.8, "money back": -2.0, "chargeback": -2.4, "switching": -1.8, "switch to": -1.8,
    "moving to": -1.4, "migrating away": -2.2, "alternatives": -1.4, "competitor": -1.2, "leaving": -1.6,
    "churn": -1.8, "not renewing": -2.6,
    # legal threats
    "lawsuit": -3.0, "lawyer": -2.6, "lawyers": -2.6, "sue": -2.8, "suing": -2.8, "legal action": -3.0,
    "breach of contract": -3.0, "sla breach": -2.6,
    # data loss
    "data loss": -3.2, "lost data": -3.2, "lost my data": -3.4, "lost our data": -3.4, "corrupted": -2.6,
    "wiped": -2.4, "deleted my": -2.2,
    # sarcasm that VADER reads as praise
    "thanks for nothing": -2.8, "great job breaking": -2.8,
    # customer service failing, in neutral words (VADER knows none of these), with their inflections
    "on hold": -2.0, "hold music": -1.6, "waited": -1.2, "wait time": -1.2, "still no": -2.0, "still not": -1.8,
    "still nothing": -2.2, "still down": -2.6, "still broken": -2.6, "still can't": -2.2, "still cant": -2.2,
    "still haven't": -2.0, "still havent": -2.0, "still hasn't": -2.0, "still hasnt": -2.0, "not fixed": -2.0,
    "not resolved": -2.0, "no response": -2.0, "no reply": -2.0, "no answer": -1.8, "no one answers": -2.4,
    "nobody answers": -2.4, "ghosting": -2.0, "ghosted": -2.0, "unanswered": -1.8,
    "ignoring": -1.6, "days later": -1.2, "weeks later": -1.6, "hours later": -1.2, "for hours": -1.4,
    "for days": -1.6, "for weeks": -1.8, "third time": -1.4,
    "3rd time": -1.4, "once again": -1.2,
    "cancelled": -1.6, "delay": -1.3, "delayed": -1.4, "delays": -1.3, "late": -1.2, "later than": -0.8,
    "overdue": -1.4, "canceled": -1.6, "cancels": -1.6,
    "cancelled my": -2.0, "canceled my": -2.0, "lost my": -2.2, "missing": -1.4, "never arrived": -2.4,
    "never received": -2.4, "never got": -1.8, "hasn't arrived": -2.0, "hasnt arrived": -2.0,
    "not arrived": -2.0, "not received": -2.0, "where is my": -1.8, "where's my": -1.8, "wheres my": -1.8,
    "stuck": -1.6, "pending": -0.8, "frozen": -1.6, "freezing": -1.2, "freezes": -1.6, "locked out": -2.2,
    "suspended": -1.6, "declined": -1.6, "charged twice": -2.6, "double charged": -2.6, "overcharged": -2.4,
    "hidden fees": -2.2, "rip off": -2.8, "ripoff": -2.8, "missed": -1.4, "missed my": -2.0, "stranded": -2.4,
    "overbooked": -2.0, "bumped": -1.4, "wrong address": -2.0, "wrong item": -2.0, "wrong order": -2.0,
    "damaged": -2.0, "substituted": -1.0, "disconnects": -1.8, "disconnected": -1.6, "disconnecting": -1.8,
    "dropped calls": -1.8, "calls dropped": -1.8, "call dropped": -1.8, "dropping": -1.4, "keeps crashing": -2.6,
    "keeps dropping": -2.4, "lagging": -1.8,
    "laggy": -1.8, "buffering": -1.4, "glitch": -1.4, "glitches": -1.6, "glitchy": -1.8, "bug": -1.2,
    "bugs": -1.4, "buggy": -2.0, "crashes": -2.0, "unplayable": -2.8, "chatbot": -0.6, "chat bot": -0.6,
    "bots": -0.6, "automated reply": -1.2, "copy paste": -1.2, "is a joke": -2.4, "a joke": -1.6,
    "can't log in": -2.2, "cant log in": -2.2, "can't login": -2.2, "cant login": -2.2, "can't access": -2.2,
    "cant access": -2.2, "won't load": -2.2, "wont load": -2.2, "won't let me": -1.8, "wont let me": -1.8,
    "fails": -1.6, "failed": -1.8, "failing": -1.8,
    # a plea is a problem someone needs help with (VADER reads "please help" as +0.69)
    "please help": -1.2, "pls help": -1.2, "plz help": -1.2, "help me": -0.8, "please fix": -1.6,
    "pls fix": -1.6, "fix this": -1.4, "fix it": -1.2, "sort this out": -1.4, "anything but": -1.6,
    "🙃": -1.2,
    # the nouns of customer service are no praise ("support" +1.7 and "care" +2.2 in VADER)
    "customer support": 0.0, "customer service": 0.0, "customer care": 0.0, "support team": 0.0, "care team": 0.0,
    "tech support": 0.0, "support ticket": 0.0,
    "help desk": 0.0, "helpdesk": 0.0, "help centre": 0.0, "help center": 0.0,
    # angry and eye-rolling emoji (VADER reads them as words such as "face with symbols on mouth")
    "🤬": -2.8, "😡": -2.6, "😠": -2.2, "🙄": -1.6, "😤": -1.8, "🤦": -1.6, "🤦‍♂️": -1.6, "🤦‍♀️": -1.6,
    "😒": -1.4, "👎": -2.0, "😩": -1.8, "😫": -1.8,
}

# --- The complaint layer's word lists (sentiment.scoring): read in a complaint, not scored by themselves -------

# Pleas and courtesy: positive to VADER ("please help" +0.69), no praise in a complaint.
COURTESY = ("please", "pls", "plz", "pleaseee", "help", "thanks", "thank you", "thank u", "thx", "ty", "kindly",
            "appreciate", "appreciated", "appreciate it", "cheers", "hi", "hello", "lol", "lmao", "haha", "sure",
            "ok", "okay", "yes", "like", "important", "wow")
# Praise that, in the same sentence as a failure, is sarcasm ("great job, down again").
PRAISE = ("thanks", "thank you", "thx", "love", "loving", "love how", "great", "great job", "awesome", "nice",
          "brilliant", "fantastic", "amazing", "well done", "good job", "bravo", "kudos", "shoutout", "perfect",
          "impressive", "stellar", "wonderful", "best", "classic", "genius", "lovely", "fun")
# A sentence that says the failure was put right is no sarcasm ("thanks for the quick fix").
RESOLVED = ("fixed", "fix", "resolved", "restored", "back up", "working again", "works again", "sorted",
            "solved", "quick", "quickly", "fast", "refunded", "arrived", "finally")
# Questions that complain by asking why, when or where (with a failure, or "still" / "again" in them) …
QUESTION_OPENERS = ("why", "when", "where", "how long", "how much longer", "how many more", "what is going on",
                    "what's going on", "wtf", "seriously")
# What a customer is owed: asked when or why about it, the question complains ("when will someone answer?").
OWED = ("answer", "reply", "respond", "response", "get back", "call back", "fix", "fixed", "refund", "refunded",
        "arrive", "delivered", "back up", "working")
# … and questions that do only when they also name a failure ("anyone else lost their data?").
WEAK_QUESTION_OPENERS = ("anyone", "is anyone", "does anyone", "will anyone", "someone", "is it just me")
SARCASM_VALENCE = -2.0
COMPLAINT_QUESTION_VALENCE = -1.6
# A sentence with one of these and without a negation is about a failure put right ("refund arrived in 2 days").
NOT_RESOLVED = ("still", "not", "never", "no", "yet", "again", "n't", "nt", "without")
# Questions that ask for information: a failure word in them is the subject, not a complaint ("is there a
# refund policy?"), unless the question also says still, again, yet or why.
INFO_OPENERS = ("can i", "can we", "can you", "could i", "could you", "do you", "does", "do i", "is there",
                "are there", "what is your", "what's your", "whats your", "what are your", "how do i", "how can i",
                "how do you", "when does", "when do", "where can i", "will there", "will you", "is it possible",
                "any chance", "which", "what happens")
# News and reports about the company: told by a third party, an outage is news, not a complaint.
REPORTING = ("reported", "reports", "per their", "according to", "announces", "announced", "says", "said",
             "statement", "press release", "figures", "per wsj", "per reuters", "per local news", "status page")
FIRST_PERSON = ("i", "i'm", "im", "i've", "ive", "my", "me", "mine", "we", "our", "us", "we're")
