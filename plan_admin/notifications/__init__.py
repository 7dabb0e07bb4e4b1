"""Email to the board and staff. Emails carry a link and never figures: the figures are on the page, behind a login.

Sent through Django's email backend (SMTP settings from the environment in production, the console for
`make run`), after the transaction that caused them commits, and each recorded as a ResolutionNotice.
"""
