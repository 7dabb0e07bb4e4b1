"""Django's SQLite backend, with a flush that respects the append-only triggers.

Flushing empties the whole database (the test runner between transactional tests, `manage.py flush`): that is not
a change to the record. PostgreSQL flushes with TRUNCATE, which fires no row trigger; SQLite flushes with DELETE,
which the triggers refuse. So here the flush drops the triggers, deletes, and puts them back in the same script.
"""

from django.db.backends.sqlite3 import base, operations

from plan_admin.db import append_only


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = super().sql_flush(style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        guarded = [table for table in append_only.ALL_TABLES if table in tables]
        if not statements or not guarded:
            return statements
        return (
            append_only.drop_statements("sqlite", guarded)
            + statements
            + append_only.create_statements("sqlite", guarded)
        )


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
