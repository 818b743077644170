# Customer accounts, impacts, follow-ups and compensation arrive with the accounts issue.
