"""The README's PostgreSQL backup and restore, run for real: a restored dump passes reconcile.

It always uses the PostgreSQL server (LOADTEST_POSTGRES or 127.0.0.1:5432), whichever database the rest of the
suite runs on, because backups are of the production database.
"""

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVER = os.environ.get("LOADTEST_POSTGRES", "postgres://postgres@127.0.0.1:5432")


def run(args, env=None):
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{args[:3]} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture
def databases():
    suffix = secrets.token_hex(4)
    names = [f"plan_admin_backup_{suffix}", f"plan_admin_restored_{suffix}"]
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as connection:
        for name in names:
            connection.execute(f'CREATE DATABASE "{name}"')
    yield [f"{SERVER}/{name}" for name in names]
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as connection:
        for name in names:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_restored_dump_passes_reconcile(databases, tmp_path):
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")  # counts as a failure in CI
    source, restored = databases
    env = {**os.environ, "DATABASE_URL": source}
    run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], env)
    run([sys.executable, "manage.py", "load_reference_plan"], env)
    dump = tmp_path / "plan_admin.dump"

    run(["pg_dump", "--format=custom", f"--file={dump}", source])
    run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={restored}", str(dump)])

    checked = run([sys.executable, "manage.py", "reconcile"], {**os.environ, "DATABASE_URL": restored})
    assert "No drift" in checked.stdout

    def ledger(url):
        with psycopg.connect(url) as connection:
            return [
                connection.execute(sql).fetchall()
                for sql in (
                    "SELECT issued_shares, authorized_shares FROM plan_admin_plan ORDER BY id",
                    "SELECT id, shares, issue_date FROM plan_admin_issuance ORDER BY id",
                    "SELECT count(*) FROM plan_admin_historicalissuance",
                    "SELECT username, password FROM auth_user ORDER BY id",
                )
            ]

    assert ledger(restored) == ledger(source)
    assert ledger(restored)[0] == [(1_275_000, 12_000_000)]  # the demo ledger, counters and history included
