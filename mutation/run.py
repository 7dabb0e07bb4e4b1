"""`make mutate`: mutation testing of the rules with mutmut 3 (configuration in pyproject.toml, [tool.mutmut]).

    python mutation/run.py run              a fresh run of every mutant, then `report`
    python mutation/run.py again [NAME...]  copy the tests anew and re-test the named mutants (default: the ones
                                            that survived or timed out), then `report`
    python mutation/run.py report           write the results into docs/mutation-testing.md

mutmut works in a copy of the project, .mutate/ (never committed), with its own mutants/ in it. The copy differs
from the source in three ways, none of which changes what the code does, and none of which moves a line:

- mutmut 3 never mutates a decorated function (it cannot put its trampoline under the decorator), and every
  service is `@transaction.atomic`. In the copy the decorator line becomes a comment and the module ends with
  `name = transaction.atomic(name)`, so the service runs in the same transaction and is mutated. Likewise a
  `@property` becomes `Class.name = property(Class.name)` at the end of the module, and `@cache` on the SQL
  builders of services/ledger_sql.py is dropped (a cached string would hide their mutants: the cache is filled
  in the parent process before mutmut forks).
- In plan_admin/reports/writers.py only escape_cell is mutated: every other function and class there gets
  `# pragma: no mutate block` on its header line (they lay out reports; the formula escaping is the rule).
- A conftest.py at the root of the copy (mutation/conftest.py) gives each forked test session its own copy of one
  database migrated here beforehand, so no mutant pays for migrations and no two share a file; and, in mutmut's
  stats run, maps each test only to the functions its own body reaches (not its fixtures' set-up) and times it
  with its set-up, so that a mutant's tests run fastest first.

Reasons for the survivors that are kept live in mutation/survivors.toml; a survivor without one is listed as
UNEXPLAINED and makes this script exit 1.
"""

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import libcst as cst

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".mutate"
RESULTS = ROOT / "docs" / "mutation-testing.md"
REASONS = ROOT / "mutation" / "survivors.toml"
TEMPLATE_DB = WORK / "template.sqlite3"
COPIED = ["plan_admin", "config", "templates", "static", "tests", "manage.py", "pyproject.toml"]
# The functions mutated, by file: the ones that decide or write a grant, a limit, a counter, a refusal or a lock.
# Every other function of these files gets `# pragma: no mutate block` in the copy (their wording and layout,
# the plan's details, participants, past records and resolutions' documents and signatures: see
# docs/mutation-testing.md). A full run of these takes 10 to 18 minutes on 2 cores (docs/mutation-testing.md).
ONLY_FUNCTIONS = {
    "plan_admin/services/_common.py": {
        "lock_plan",
        "whole_shares",
        "money",
        "not_in_future",
        "year",
        "check_within_term",
        "check_record_date",
    },
    "plan_admin/services/pool.py": {"move_counters", "move_designation_issued", "refuse_over_commitment"},
    "plan_admin/services/issuances.py": {
        "clean_issuance_values",
        "check_issuance",
        "_check_debt_settlement",
        "debt_settled_by",
        "_check_designation_plan",
        "_is_confirmed",
        "_replayed",
        "issuance_record",
        "issuance_record_many",
        "issuance_cancel",
    },
    "plan_admin/services/ledger_sql.py": {
        "_lock_sql",
        "_lock_statement",
        "_locked_plan",
        "lock_plan_and_read_designation",
        "_designation_sql",
        "_designation_state",
        "_cancellation_state_sql",
        "lock_plan_and_read_cancellation_state",
        "insert_issuance",
        "_counter_sql",
        "move_counters",
        # the issuance totals (issue 14); not _total_from_d_sql, which only PostgreSQL's one statement uses
        "Counters",
        "_total_upsert",
        "_total_from_designation_sql",
        "_total_values_sql",
        "move_totals",
    },
    "plan_admin/services/designations.py": {
        "_refuse_closed_year",
        "_clean_proposal",
        "designation_propose",
        "save_new_designation",
        "_save_status",
        "_count",
        "_approve",
        "refuse_approval",
        "designation_decide",
        "designation_vote",
        "_lapse",
        "designation_lapse",
        "plan_year_close",
    },
    "plan_admin/services/plan.py": {
        "reserve_change_propose",
        "_check_reserve_change",
        "apply_reserve_change",
        "termination_propose",
        "_check_termination",
        "refuse_proposal_approval",
        "plan_proposal_decide",
        "plan_proposal_vote",
    },
    "plan_admin/services/decisions.py": {"tally", "refuse_unless_may_vote"},
    "plan_admin/services/resolutions.py": {"PoolEffect", "pool_effect"},
    "plan_admin/services/participants.py": {"participant_update", "_move_totals_to"},  # the totals by category
    "plan_admin/services/past_records.py": set(),
    "plan_admin/services/__init__.py": set(),
    "plan_admin/imports/cells.py": {"_spreadsheet_trouble", "read_decimal", "parse_whole", "parse_money", "parse_date"},
    "plan_admin/reports/writers.py": {"escape_cell"},
}
BEGIN, END = "<!-- make mutate: begin -->", "<!-- make mutate: end -->"
MUTMUT = str(ROOT / ".venv" / "bin" / "mutmut")


def config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]


def mutated_files() -> list[str]:
    files = []
    for pattern in config()["only_mutate"]:
        files += sorted(str(path.relative_to(ROOT)) for path in ROOT.glob(pattern) if path.suffix == ".py")
    return files


# --- the copy --------------------------------------------------------------------------------------------------


def _decorator_name(decorator: cst.Decorator) -> str:
    return cst.Module([]).code_for_node(decorator.decorator)


class _Unwrap(cst.CSTTransformer):
    """Decorators mutmut skips, moved to the end of the module without moving a line; other functions of a file
    with ONLY_FUNCTIONS marked `# pragma: no mutate block`."""

    WRAP = {"transaction.atomic": "transaction.atomic", "property": "property"}
    DROP = {"cache"}

    def __init__(self, only: set[str] | None):
        self.only = only
        self.footer: list[str] = []
        self.classes: list[str] = []
        self.depth = 0

    def visit_ClassDef(self, node):
        self.classes.append(node.name.value)
        self.depth += 1

    def leave_ClassDef(self, original, updated):
        self.classes.pop()
        self.depth -= 1
        if self.depth == 0 and self.only is not None and updated.name.value not in self.only:
            return self._no_mutate(updated)
        return updated

    def visit_FunctionDef(self, node):
        self.depth += 1

    def leave_FunctionDef(self, original, updated):
        self.depth -= 1
        names = [_decorator_name(d) for d in updated.decorators]
        if names and all(name in self.WRAP or name in self.DROP for name in names) and self.depth <= 1:
            owner = f"{self.classes[-1]}." if self.classes and self.depth == 1 else ""
            if self.depth == 1 and not owner:
                return updated  # a nested function: leave it (mutmut skips it as part of its parent's body)
            name = owner + updated.name.value
            for decorator in reversed(updated.decorators):
                wrap = self.WRAP.get(_decorator_name(decorator))
                if wrap:
                    self.footer.append(f"{name} = {wrap}({name})")
            lines = list(updated.leading_lines)
            for decorator in updated.decorators:
                lines += list(decorator.leading_lines)
            lines.append(
                cst.EmptyLine(
                    comment=cst.Comment(
                        f"# {' '.join('@' + n for n in names)}: applied at the end of the module (mutation/run.py)"
                    )
                )
            )
            lines += list(updated.lines_after_decorators)
            updated = updated.with_changes(decorators=(), leading_lines=lines, lines_after_decorators=())
        if self.depth == 0 and self.only is not None and updated.name.value not in self.only:
            return self._no_mutate(updated)
        return updated

    @staticmethod
    def _no_mutate(node):
        body = node.body
        if not isinstance(body, cst.IndentedBlock):
            return node
        header = body.header.with_changes(
            comment=cst.Comment("# pragma: no mutate block"), whitespace=cst.SimpleWhitespace("  ")
        )
        return node.with_changes(body=body.with_changes(header=header))


def _is_message(node: ast.expr) -> bool:
    """A refusal's wording: a string, an f-string, a sum of them, or a variable named `message`."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _is_message(node.left) and _is_message(node.right)
    return isinstance(node, ast.Name) and node.id == "message"


def message_lines(code: str) -> set[int]:
    """Lines of every `raise Error("wording", field=...)`: the exception is raised or not by the code around it,
    which is mutated; its arguments are the message and the form field the message is shown at."""
    lines = set()
    for node in ast.walk(ast.parse(code)):
        if (
            isinstance(node, ast.Raise)
            and isinstance(node.exc, ast.Call)
            and node.exc.args
            and _is_message(node.exc.args[0])
        ):
            lines.update(range(node.lineno, node.end_lineno + 1))
    return lines


def rewrite(relative: str) -> None:
    path = WORK / relative
    source = path.read_text()
    transformer = _Unwrap(ONLY_FUNCTIONS.get(relative))
    module = cst.parse_module(source).visit(transformer)
    code = module.code
    if transformer.footer:
        code = code.rstrip("\n") + "\n\n\n# Decorators moved here by mutation/run.py, so that mutmut mutates these.\n"
        code += "".join(line + "\n" for line in transformer.footer)
    new = code.splitlines()
    for number in message_lines(code):
        if "pragma: no mutate" not in new[number - 1]:
            new[number - 1] += "  # pragma: no mutate (a refusal's wording)"
    code = "\n".join(new) + "\n"
    ast.parse(code)
    for number, line in enumerate(source.splitlines()):
        if line.strip().startswith("@") or "pragma: no mutate" in new[number]:
            continue
        assert new[number] == line, f"{relative}:{number + 1} moved: {line!r} became {new[number]!r}"
    path.write_text(code)


def copy_project() -> None:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", *COPIED],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\0")
    for relative in filter(None, listed):
        source = ROOT / relative
        if not source.is_file():
            continue
        target = WORK / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    shutil.copy2(ROOT / "mutation" / "conftest.py", WORK / "conftest.py")
    for relative in mutated_files():
        rewrite(relative)


# A mutation confined to one of these keyword arguments changes only the wording of a refusal (`label`, `what`,
# `noun`, `doing`: words of the message) or the form field it is shown at (`field`); such mutants are marked
# skipped before the run, and counted as such.
WORDING = re.compile(r'\b(label|what|noun|field|doing)=(f?"[^"]*"|None|[\w.]+)')
SKIPPED = 34  # mutmut's exit code for "skipped"


def only_wording(removed: list[str], added: list[str]) -> bool:
    if len(removed) != 1 or len(added) != 1:
        return False
    old, new = removed[0], added[0]
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    end = 0
    while end < min(len(old), len(new)) - start and old[-1 - end] == new[-1 - end]:
        end += 1
    low, high = start, max(start, len(old) - end)
    for match in WORDING.finditer(old):
        first, last = match.span()
        first -= 2 if old[first - 2 : first] == ", " else 0
        last += 2 if old[last : last + 2] == ", " else 0
        if first <= low and high <= last:
            return True
    return False


def generate() -> None:
    """In WORK: make the mutants as `mutmut run` would, and mark the wording-only ones skipped."""
    from mutmut.__main__ import copy_also_copy_files, copy_src_dir, create_mutants
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.utils.file_utils import walk_mutatable_files

    Path("mutants").mkdir(exist_ok=True)
    copy_src_dir()
    copy_also_copy_files()
    create_mutants(os.cpu_count() or 2)
    total = skipped = 0
    for path in walk_mutatable_files():
        data = SourceFileMutationData(path=path)
        data.load()
        for key in data.exit_code_by_key:
            total += 1
            if only_wording(*_changed_lines(get_diff_for_mutant(key, path=path))):
                data.exit_code_by_key[key] = SKIPPED
                skipped += 1
        data.save()
    print(f"{total} mutants, {skipped} of them only change a refusal's wording or field: skipped")


def environment() -> dict:
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "CI"}}
    env["PLAN_ADMIN_MUTATE_TEMPLATE_DB"] = str(TEMPLATE_DB)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def migrate_template() -> None:
    TEMPLATE_DB.unlink(missing_ok=True)
    env = {**environment(), "DATABASE_URL": f"sqlite:///{TEMPLATE_DB}"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=WORK, env=env, check=True)


def _selection(pyproject: Path) -> list[str]:
    if not pyproject.exists():
        return []
    return tomllib.loads(pyproject.read_text())["tool"]["mutmut"].get("pytest_add_cli_args_test_selection", [])


def keep_results_if_selection_grew(before: list[str]) -> None:
    """mutmut resets every result (killed ones and the skipped wording too) when the test selection changes. When it
    only grew (tests added, none removed), no kill is undone: record the new selection as the one the results were
    made with, and mutmut finds the new tests (`Found N new tests`) and maps them to the functions they reach."""
    after = _selection(WORK / "pyproject.toml")
    stats = WORK / "mutants" / "mutmut-stats.json"
    if after == before or not before or not set(before) <= set(after) or not stats.exists():
        return
    import hashlib

    data = json.loads(stats.read_text())
    old = hashlib.sha256(repr(tuple(before)).encode()).hexdigest()[:12]
    if data.get("config_fingerprint", {}).get("test_selection") != old:
        return
    data["config_fingerprint"]["test_selection"] = hashlib.sha256(repr(tuple(after)).encode()).hexdigest()[:12]
    stats.write_text(json.dumps(data, indent=4))
    print(f"test selection grew by {sorted(set(after) - set(before))}: results kept, the new tests are mapped")


def mutmut(*args: str) -> None:
    subprocess.run([MUTMUT, *args], cwd=WORK, env=environment(), check=True)


# --- the results -----------------------------------------------------------------------------------------------


def collect() -> dict:
    """Status of every mutant, and the diff of each one not killed; read with mutmut's own modules, in WORK."""
    code = r"""
import json, sys
from mutmut.mutation.data import SourceFileMutationData
from mutmut.mutation.diff_apply import get_diff_for_mutant
from mutmut.stats import status_by_exit_code
from mutmut.utils.file_utils import walk_mutatable_files
out = {}
for path in walk_mutatable_files():
    data = SourceFileMutationData(path=path)
    data.load()
    for key, exit_code in data.exit_code_by_key.items():
        status = status_by_exit_code[exit_code]
        diff = "" if status in ("killed", "skipped") else get_diff_for_mutant(key, path=path)
        out[key] = {"path": str(path), "status": status, "diff": diff}
json.dump(out, sys.stdout)
"""
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-c", code],
        cwd=WORK,
        env=environment(),
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout)


def _changed_lines(diff: str) -> tuple[list[str], list[str]]:
    removed = [line[1:] for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    added = [line[1:] for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    return removed, added


def _function(key: str) -> str:
    """`plan_admin.services.pool.x_move_counters__mutmut_3` -> `move_counters`; methods -> `Class.method`."""
    name = key.rpartition(".")[2]
    name = re.sub(r"__mutmut_\d+$", "", name)
    if name.startswith("xǁ"):
        return name[2:].replace("ǁ", ".")
    return name[2:] if name.startswith("x_") else name


def _line(path: str, function: str, removed: list[str]) -> int | None:
    """The line of the source that the mutation changes: the first line equal to it within its function."""
    if not removed:
        return None
    source = (ROOT / path).read_text()
    first, last = 1, len(source.splitlines())
    owner, _, name = function.rpartition(".")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef | ast.FunctionDef) and node.name == (owner or name):
            first, last = node.lineno, node.end_lineno
            break
    lines = source.splitlines()
    for number in range(first, last + 1):
        if lines[number - 1] == removed[0]:
            return number
    return None


def describe(key: str, info: dict) -> dict:
    removed, added = _changed_lines(info["diff"])
    path = info["path"]
    return {
        "key": key,
        "path": path,
        "function": _function(key),
        "line": _line(path, _function(key), removed),
        "from": " ".join(line.strip() for line in removed),
        "to": " ".join(line.strip() for line in added),
        "status": info["status"],
    }


def reasons() -> list[dict]:
    return tomllib.loads(REASONS.read_text()).get("survivor", []) if REASONS.exists() else []


def reason_for(mutant: dict, known: list[dict]) -> str | None:
    """The first entry whose `file` and `function` (when given) are the mutant's, whose `from` / `to` are in its
    original / mutated line, whose `from_re` / `to_re` (regular expressions) are found in them, whose `to_lacks`
    is not in the mutated line, and, with `wording_only`, whose mutation is confined to a `doing=`, `label=`, ...
    argument (only_wording)."""
    for entry in known:
        if entry.get("file", mutant["path"]) != mutant["path"]:
            continue
        if entry.get("function", mutant["function"]) not in (mutant["function"], "*"):
            continue
        if entry.get("from") and entry["from"] not in mutant["from"]:
            continue
        if entry.get("to") and entry["to"] not in mutant["to"]:
            continue
        if entry.get("to_re") and not re.search(entry["to_re"], mutant["to"]):
            continue
        if entry.get("from_re") and not re.search(entry["from_re"], mutant["from"]):
            continue
        if entry.get("to_lacks") and entry["to_lacks"] in mutant["to"]:
            continue
        if entry.get("wording_only") and not only_wording([mutant["from"]], [mutant["to"]]):
            continue
        return entry["reason"]
    return None


def _cell(text: str) -> str:
    text = text if len(text) <= 160 else text[:157] + "..."
    return "`" + text.replace("|", "\\|").replace("`", "'") + "`" if text else ""


def report(wall: float | None = None) -> int:
    mutants = collect()
    counts: dict[str, int] = {}
    for info in mutants.values():
        counts[info["status"]] = counts.get(info["status"], 0) + 1
    known = reasons()
    unchecked: dict[str, int] = {}
    for key, info in mutants.items():
        if info["status"] == "not checked":
            name = f"{info['path']}: {_function(key)}"
            unchecked[name] = unchecked.get(name, 0) + 1
    kept = [
        describe(key, info)
        for key, info in sorted(mutants.items())
        if info["status"] not in ("killed", "skipped", "not checked")
    ]
    unexplained = 0
    rows = []
    for mutant in sorted(kept, key=lambda m: (m["path"], m["line"] or 0, m["key"])):
        reason = reason_for(mutant, known)
        if reason is None:
            unexplained += 1
            reason = "**UNEXPLAINED**"
        where = f"{mutant['path']}:{mutant['line']}" if mutant["line"] else mutant["path"]
        rows.append(
            f"| {where} | {mutant['function']} | {mutant['status']} | {_cell(mutant['from'])} → "
            f"{_cell(mutant['to'])} | {reason} |"
        )
    version = subprocess.run([MUTMUT, "--version"], capture_output=True, text=True).stdout.strip()
    lines = [
        BEGIN,
        "",
        f"Last run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {version}, "
        f"{os.cpu_count()} CPU cores" + (f", wall time {wall / 60:.1f} min" if wall else "") + ".",
        "",
    ]
    lines.append("| status | mutants |")
    lines.append("| --- | ---: |")
    for status, count in sorted(counts.items(), key=lambda item: -item[1]):
        lines.append(f"| {status} | {count} |")
    lines.append(f"| **total** | **{sum(counts.values())}** |")
    lines += [
        "",
        f"Skipped: the mutants that only change a refusal's wording or the field it is shown at (see above). "
        f"Not checked (the run was stopped before them): {sum(unchecked.values())}"
        + (
            ", in "
            + "; ".join(f"{name} {count}" for name, count in sorted(unchecked.items(), key=lambda item: -item[1]))
            if unchecked
            else ""
        )
        + ".",
        "",
        f"Survivors (tested, not killed): {len(kept)}, of which unexplained: {unexplained}.",
        "",
    ]
    lines.append("| where | function | status | mutation | why it is kept |")
    lines.append("| --- | --- | --- | --- | --- |")
    lines += rows
    lines += ["", END]
    text = RESULTS.read_text() if RESULTS.exists() else f"# Mutation testing\n\n{BEGIN}\n{END}\n"
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    RESULTS.write_text(head + "\n".join(lines) + tail)
    print(f"{RESULTS.relative_to(ROOT)}: {counts}; not killed {len(kept)}, unexplained {unexplained}")
    return 1 if unexplained else 0


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "run"
    if command == "report":
        return report()
    if command == "_generate":
        generate()
        return 0
    start = time.monotonic()
    if command == "run":
        shutil.rmtree(WORK, ignore_errors=True)
        WORK.mkdir()
        copy_project()
        migrate_template()
        subprocess.run(
            [str(ROOT / ".venv" / "bin" / "python"), str(ROOT / "mutation" / "run.py"), "_generate"],
            cwd=WORK,
            env=environment(),
            check=True,
        )
        mutmut("run", "--max-children", str(os.cpu_count() or 2))
    elif command == "again":
        before = _selection(WORK / "pyproject.toml")
        shutil.rmtree(WORK / "tests", ignore_errors=True)
        shutil.rmtree(WORK / "mutants" / "tests", ignore_errors=True)
        copy_project()
        keep_results_if_selection_grew(before)
        names = argv[1:] or [key for key, info in collect().items() if info["status"] not in {"killed", "skipped"}]
        if names:
            mutmut("run", "--max-children", str(os.cpu_count() or 2), *names)
    else:
        print(__doc__)
        return 2
    return report(time.monotonic() - start)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
