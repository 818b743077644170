# Mentions, scoring and the review queue arrive with the sentiment issue.
