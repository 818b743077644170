# Admin for this app's models arrives with its issue.
