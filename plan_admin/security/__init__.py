"""Protections that are not rules of the plan: strict input parsing, headers, login protection, sessions, the
second factor and its enrolment links. See README.md, "Deploying", for the settings."""
