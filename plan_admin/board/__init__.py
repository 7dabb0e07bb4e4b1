"""The board's resolution pages: resolutions out for signature and decided, preparing one (staff), reading the
document in the page and signing it with the password (board), declining, withdrawing (staff), downloading the
documents, and each user's email preferences. Writes go through plan_admin.services.resolutions."""
