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
    # the nouns of customer service are no praise ("support" +1.7 and "care" +2.2 in VADER)
    "customer support": 0.0, "customer service": 0.0, "customer care": 0.0, "support team": 0.0, "care team": 0.0,
    "tech support": 0.0, "support ticket": 0.0,
    "help desk": 0.0, "helpdesk": 0.0, "help centre": 0.0, "help center": 0.0,
    # angry and eye-rolling emoji (VADER reads them as words such as "face with symbols on mouth")
    "🤬": -2.8, "😡": -2.6, "😠": -2.2, "🙄": -1.6, "😤": -1.8, "🤦": -1.6, "🤦‍♂️": -1.6, "🤦‍♀️": -1.6,
    "😒": -1.4, "👎": -2.0, "😩": -1.8, "😫": -1.8,
    # --- round two (issue 12): single words also match their inflections ("vanish" finds "vanished") ----------
    # money taken wrongly
    "charged me": -1.4, "charged us": -1.4, "taken twice": -2.4, "billed twice": -2.4,
    "billed for": -1.0, "double-charged": -2.6, "price hike": -2.0, "raised prices": -2.0, "raised our price": -2.0,
    "raised my price": -2.0, "raised the price": -1.8, "auto-renewed": -1.6, "auto renewed": -1.6,
    "not honored": -2.2, "not honoured": -2.2, "never returned": -2.0, "never refunded": -2.4,
    "no refund": -2.0, "bait and switch": -2.8, "pay to win": -2.0, "surprise bill": -2.0,
    # what customers lose or are shut out of
    "vanish": -1.8, "disappear": -1.6, "deleted": -1.8, "removed": -0.8, "wiped out": -2.2, "gone": -0.6,
    "froze my": -2.0, "frozen my": -2.0, "blocked my": -2.0, "locked my": -2.0, "deactivated": -1.8,
    "cut my": -1.6, "cut off": -1.8, "unsubscribed": -1.2, "banned": -2.0, "lost": -1.3, "wrong": -2.1,
    "no service": -2.2, "no signal": -2.0, "no internet": -2.2, "no data": -1.6, "no wifi": -1.8,
    "no working": -2.0, "zero bars": -2.0, "no bars": -2.0, "no warning": -1.6, "no explanation": -1.8,
    "no reason": -1.2, "no compensation": -2.0, "no notification": -1.2, "no one": -1.2, "nobody": -1.2,
    "zero replies": -2.2, "0 replies": -2.2, "0 answers": -2.2, "zero answers": -2.2, "no replies": -2.0,
    "no answers": -2.0, "no help": -2.0, "busy signal": -1.8,
    # things that do not happen or do not work, in plain words
    "didn't arrive": -2.0, "didnt arrive": -2.0, "did not arrive": -2.0, "not delivered": -2.0,
    "wasn't delivered": -2.2, "wasnt delivered": -2.2, "never showed up": -2.2, "never showed": -2.0,
    "didn't go through": -1.8, "didnt go through": -1.8, "didn't make it": -1.6, "hasn't worked": -2.0,
    "hasnt worked": -2.0, "doesn't show": -1.4, "doesnt show": -1.4, "don't work": -2.2, "dont work": -2.2,
    "didn't work": -2.0, "didnt work": -2.0, "doesnt work": -2.2, "won't launch": -2.2, "wont launch": -2.2,
    "won't open": -2.0, "wont open": -2.0, "doesn't register": -1.6, "black screen": -2.0, "blank page": -1.6,
    "went wrong": -1.6, "not compatible": -1.2, "rubberbanding": -1.8, "drops every": -1.8,
    "gave up": -1.6, "uninstalled": -1.8, "never again": -2.4, "never spending": -2.2, "not shopping": -1.8,
    "the worst": -2.6, "not ok": -2.0, "not okay": -2.0,
    # exasperation
    "smh": -1.6, "ffs": -2.8, "ugh": -1.8, "sigh": -1.2, "come on": -1.2, "cmon": -1.2, "c'mon": -1.2,
    "what year is it": -1.8, "are you serious": -2.0, "are u serious": -2.0, "i'm done": -1.8, "im done": -1.8,
    "🤡": -2.0, "🙃": -1.6,
    # VADER's own failure verbs, here at VADER's weight, so that thanks or love before them reads as sarcasm
    # ("thanks for losing my order", "love how you ruined my weekend")
    "losing": -1.6, "lose": -1.7, "ruining": -1.6, "ruined": -2.1, "broke": -1.8, "broken": -2.1, "wasting": -1.7,
    "wasted": -2.2, "ignored": -1.3,
    # sentiment words that are names or neutral things in customer posts
    "po box": 0.0, "po boxes": 0.0,
    # --- round three (issue 12): general customer-service phrasing -------------------------------------------
    # the things of customer service that VADER reads as praise ("support" +1.7, "credit" +1.6, "gift" +1.9)
    "support": 0.0, "supports": 0.0, "credit card": 0.0, "credit cards": 0.0, "gift card": 0.0, "gift cards": 0.0,
    "credit union": 0.0, "rewards points": 0.0, "reward points": 0.0, "free trial": 0.0, "promo code": 0.0,
    "security code": 0.0, "security question": 0.0, "security questions": 0.0, "safe mode": 0.0,
    "interest rate": 0.0, "interest rates": 0.0, "google play": 0.0, "play store": 0.0, "helpline": 0.0,
    "help line": 0.0, "share my screen": 0.0, "screen share": 0.0, "screen sharing": 0.0,
    # where the order, the money or the answer is
    "where are my": -1.8, "where r my": -1.8, "where is the refund": -1.8, "where is my refund": -2.0,
    "says delivered": -1.8, "said delivered": -1.8, "shows delivered": -1.8, "marked as delivered": -1.8,
    "marked delivered": -1.8, "showing delivered": -1.8, "haven't received": -2.0, "havent received": -2.0,
    "have not received": -2.0, "didn't receive": -2.0, "didnt receive": -2.0, "did not receive": -2.0,
    "hasn't been delivered": -2.0, "never came": -2.0, "never turned up": -2.2, "didn't come": -1.6,
    "didnt come": -1.6, "haven't heard back": -1.8, "havent heard back": -1.8, "never heard back": -2.0,
    "no one got back": -2.0, "nobody got back": -2.0, "not responding": -1.8, "no one responds": -2.2,
    "nobody responds": -2.2, "no one is responding": -2.2, "hung up": -2.0, "been transferred": -1.4,
    "closed my ticket": -1.8, "unhelpful": -2.0, "not helpful": -2.0, "joke of a": -2.4, "joke of an": -2.4,
    "scammed": -2.6, "robbed": -2.4, "trash": -2.0, "gutted": -2.2, "bricked": -2.6, "slow": -1.0,
    "no notice": -1.4, "without notice": -1.4, "without warning": -1.4,
    # problems said plainly, and demands ("do better": VADER reads "better" +1.9)
    "issues with": -1.4, "issue with": -1.2, "having issues": -1.6, "having an issue": -1.4,
    "having problems": -1.8, "having trouble": -1.8, "same issue": -1.4, "same problem": -1.6,
    "still having": -1.6, "nothing works": -2.2, "nothing is working": -2.2, "no way to": -1.2,
    "no longer works": -2.0, "no longer working": -2.0, "internet is out": -1.8, "internet out": -1.8,
    "service is out": -1.8, "power is out": -1.6, "cuts out": -1.6, "cutting out": -1.6, "drops out": -1.6,
    "dropping out": -1.6, "dead zone": -1.6, "spinning wheel": -1.4, "do better": -1.6, "get it together": -1.6,
    "fix your": -1.6, "let down": -1.8, "let me down": -1.8, "let us down": -1.8, "nightmare": -2.4,
    "shambles": -2.4, "shambolic": -2.4, "been charged": -1.2, "didn't order": -1.6, "didnt order": -1.6,
    "never ordered": -1.8, "didn't authorize": -2.2, "didnt authorize": -2.2, "didn't authorise": -2.2,
    "unauthorized": -2.2, "unauthorised": -2.2, "charged me twice": -2.6, "charged us twice": -2.6,
    "was supposed to": -1.4, "were supposed to": -1.4, "was meant to": -1.2, "were meant to": -1.2,
    "can't even": -1.4, "cant even": -1.4, "without my consent": -2.0, "without my permission": -2.0,
    "never consented": -2.0, "without asking": -1.4,
    # … and what VADER misses the other way: eagerness ("can't wait" is no failure)
    "can't wait": 1.8, "cant wait": 1.8, "can't wait any longer": -1.6, "cant wait any longer": -1.6,
    # praise said with a negation, which VADER turns around ("never been better" reads −0.4)
    "never been better": 2.4, "never better": 2.0, "can't complain": 1.4, "cant complain": 1.4,
    "can't fault": 2.0, "cant fault": 2.0, "can't recommend it enough": 2.8, "cant recommend it enough": 2.8,
    "can't recommend them enough": 2.8, "can't recommend enough": 2.8, "cannot recommend enough": 2.8,
    "can't thank you enough": 2.8, "cant thank you enough": 2.8, "couldn't be happier": 3.0,
    "couldnt be happier": 3.0, "could not be happier": 3.0, "couldn't be better": 2.6, "no complaints": 1.6,
    "no issues": 1.4, "zero issues": 1.4, "no problems": 1.4, "never had an issue": 1.6, "never had any issues": 1.6,
    "never had a problem": 1.6, "never had any problems": 1.6, "without any issues": 1.4,
}

# Things that do not work, in the words customers use ("won't open", "can't connect", "keeps restarting",
# "stopped charging"): every combination is a lexicon entry of its own (editable, and named in the reasons).
_CANT = ("can't", "cant", "cannot", "can not", "unable to", "couldn't", "couldnt", "could not")
_CANT_DO = ("log in", "login", "sign in", "log into", "sign into", "connect", "access", "get through", "make calls",
            "pay", "download", "stream", "watch", "play", "use", "open", "check in", "update", "cancel",
            "withdraw", "reach", "get hold of", "speak to", "talk to", "track", "redeem", "reset", "send",
            "receive", "hear", "get a refund")
_WONT = ("won't", "wont", "will not", "doesn't", "doesnt", "does not", "didn't", "didnt")
_WONT_DO = ("open", "load", "connect", "start", "launch", "turn on", "boot", "sync", "update",
            "install", "play", "accept", "go through", "respond", "pair", "download", "send", "log in",
            "sign in", "log me in", "let me", "show up", "stream", "recognise", "recognize")
_FAILING = ("loading", "connecting", "charging", "syncing", "updating", "responding", "opening", "turning on",
            "sending", "showing up", "going through", "streaming", "playing", "downloading")
_KEEPS = ("keeps", "keep", "kept", "constantly", "randomly")
_KEEPS_DOING = ("crashing", "restarting", "rebooting", "freezing", "buffering", "dropping", "disconnecting",
                "logging me out", "logging out", "lagging", "failing", "closing", "shutting down", "turning off",
                "declining", "cancelling", "canceling", "timing out", "glitching", "saying error", "asking me",
                "telling me", "getting charged", "getting errors", "cutting out", "dropping out",
                "getting an error", "happening", "changing")
for _negated, _actions, _valence in ((_CANT, _CANT_DO, -2.0), (_WONT, _WONT_DO, -2.0),
                                     (("not", "isn't", "isnt", "stopped"), _FAILING, -1.8),
                                     (_KEEPS, _KEEPS_DOING, -1.8)):
    for _action in _actions:
        for _word in _negated:
            DEFAULT_LEXICON.setdefault(f"{_word} {_action}", _valence)
DEFAULT_LEXICON.update({"won't charge": -2.0, "wont charge": -2.0, "stopped working": -2.2,
                        "stopped charging": -2.0, "stopped syncing": -2.0})

# --- The complaint layer's word lists (sentiment.scoring): read in a complaint, not scored by themselves -------

# Pleas and courtesy: positive to VADER ("please help" +0.69), no praise in a complaint.
COURTESY = ("please", "pls", "plz", "pleaseee", "help", "thanks", "thank you", "thank u", "thx", "ty", "kindly",
            "appreciate", "appreciated", "appreciate it", "cheers", "hi", "hello", "lol", "lmao", "haha", "sure",
            "ok", "okay", "yes", "like", "important", "wow")
# Praise that, in the same sentence as a failure, is sarcasm ("great job, down again").
PRAISE = ("thanks", "thank you", "thx", "love", "loving", "love how", "great", "great job", "awesome", "nice",
          "brilliant", "fantastic", "amazing", "well done", "good job", "bravo", "kudos", "shoutout", "perfect",
          "impressive", "stellar", "wonderful", "best", "classic", "genius", "lovely", "fun", "cool", "oh cool",
          "outstanding", "superb", "special", "10/10", "would recommend", "thanks a lot", "totally normal", "enjoy",
          "👏", "🙂", "lol", "lmao", "so secure", "good idea")
# A sentence that says the failure was put right is no sarcasm ("thanks for the quick fix").
RESOLVED = ("fixed", "resolved", "restored", "back up", "working again", "works again", "sorted",
            "solved", "quick", "quickly", "fast", "refunded", "arrived", "finally")
# Thanks for a remedy is thanks, whatever went wrong before it ("thanks for waiving the late fee").
GRATITUDE = ("thanks", "thank you", "thank u", "thx", "shoutout", "shout out", "props", "kudos", "big thanks",
             "grateful", "credit to", "legend", "legends")
REMEDY = ("refund", "refunding", "refunded", "rollback", "waived", "waiving", "free", "compensation", "credit",
          "replaced", "rebooked", "moving", "hotfix", "fixed", "fix", "sorted", "restored", "resolved", "helped",
          "postmortem", "apologised", "apologized", "quick", "quickly", "fast")
# Questions that complain by asking why, when or where (with a failure, or "still" / "again" in them) …
QUESTION_OPENERS = ("why", "when", "where", "how long", "how much longer", "how many more", "what is going on",
                    "what's going on", "wtf", "seriously")
# What a customer is owed: asked when or why about it, the question complains ("when will someone answer?").
OWED = ("answer", "reply", "respond", "response", "get back", "call back", "fix", "fixed", "refund", "refunded",
        "arrive", "delivered", "back up", "working")
# … and questions that do only when they also name a failure ("anyone else lost their data?").
WEAK_QUESTION_OPENERS = ("anyone", "is anyone", "does anyone", "will anyone", "someone", "is it just me")
# Questions that complain by themselves: rhetorical ("who thought this was a good idea"), or "why" anywhere in a
# question, or "??" — except a "why" about one's own choice ("why didn't I switch sooner").
RHETORICAL = ("who thought", "what am i paying for", "what are you doing", "who do i talk to", "since when",
              "which is it", "is anyone actually", "is anyone even", "what is the point", "what's the point",
              "how hard is it", "how is this", "how is that", "is this a joke", "are you kidding", "hello?")
NOT_A_COMPLAINT_WHY = ("why not", "why didn't i", "why didnt i", "why did i wait", "why did it take me")
# Time passing is a complaint when something has not happened ("been 5 days, still nothing") …
WAIT_MARKERS = ("still", "no", "not", "never", "n't", "nothing", "waiting", "hold", "nobody", "zero", "stuck",
                "yet", "without", "transit", "pending", "processing", "review")
WAITING_VALENCE = -1.6
REPEATED_VALENCE = -1.2
SARCASM_VALENCE = -2.0
COMPLAINT_QUESTION_VALENCE = -1.6
# A sentence with one of these and without a negation is about a failure put right ("refund arrived in 2 days").
NOT_RESOLVED = ("still", "not", "never", "no", "yet", "again", "n't", "nt", "without", "missing", "late", "broken",
                "damaged", "wrong", "after", "but")
# Questions that ask for information: a failure word in them is the subject, not a complaint ("is there a
# refund policy?"), unless the question also says still, again, yet or why.
INFO_OPENERS = ("can i", "can we", "can you", "could i", "could you", "do you", "does", "do i", "is there",
                "are there", "what is your", "what's your", "whats your", "what are your", "how do i", "how can i",
                "how do you", "when does", "when do", "where can i", "will there", "will you", "is it possible",
                "any chance", "which", "what happens")
# News and reports about the company: told by a third party, an outage is news, not a complaint.
REPORTING = ("reported", "reports", "reporting", "per their", "according to", "announces", "announced", "confirms",
             "confirmed", "statement", "press release", "figures", "per wsj", "per reuters", "per local news",
             "per national rail", "per downdetector", "status:", "scheduled maintenance", "known issues",
             "customers:", "heads up")
# … and, in a text with no complaint in it, words of news that leave VADER's colour out ("… cuts 200 jobs, company
# says"); too common in complaints ("support says", "status page says all green") to settle a failure.
NEWS = (*REPORTING, "says", "said", "status page", "to introduce", "will stop", "to cut", "plans to",
        "investigating")
FIRST_PERSON = ("i", "i'm", "im", "i've", "ive", "my", "me", "mine", "we", "our", "us", "we're")
