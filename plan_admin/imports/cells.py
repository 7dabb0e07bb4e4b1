"""One cell's value read as the type its column needs, without guessing.

A parser takes the raw value (text from a CSV, or what an XLSX cell holds: str, int, float, bool, datetime, or one
of the markers below) and the file's `ReadOptions`, and returns the value or raises `CellProblem` with the reason;
the engine puts the cell's name in front ("price_per_share (cell F3): ...").

Numbers written as text follow one rule:
- not declared (the default): a comma is a thousands separator only in groups of three ("1,000", "1,000,000"), a
  point is a decimal point; anything else with a comma ("0,15", "1,5", "45.000,00") is refused as ambiguous, and so
  is a whole number with a point before exactly three digits ("1.000": 1 or 1,000?);
- declared "." or ",": that character is the decimal separator and the other one (or a space, or an apostrophe)
  separates thousands in groups of three; anything else is refused.
Numbers stored as numbers in an XLSX are numbers: 100.0 is 100 shares, 2.5 shares is refused, never truncated.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from openpyxl.utils.datetime import WINDOWS_EPOCH, from_excel

DECIMAL_SEPARATORS = {"": "not declared", ".": "point (1,234.56)", ",": "comma (1.234,56)"}
LARGEST_EXCEL_SERIAL = 2_958_465  # 9999-12-31


@dataclass(frozen=True)
class ReadOptions:
    """How to read one file: its declared decimal separator ("" = not declared) and, for an XLSX, its date epoch."""

    decimal_separator: str = ""
    epoch: datetime.datetime = WINDOWS_EPOCH

    def __post_init__(self):
        if self.decimal_separator not in DECIMAL_SEPARATORS:
            raise ValueError(f"decimal_separator must be one of {list(DECIMAL_SEPARATORS)}")


class CellProblem(Exception):
    """The reason one cell cannot be read (without the cell's name)."""


@dataclass(frozen=True)
class FormulaWithoutValue:
    """An XLSX cell holding a formula whose result was never saved (the file was written by a program that does
    not calculate, or saved without recalculating)."""

    formula: str

    def __str__(self) -> str:
        return f"={self.formula}" if self.formula else "a formula"


@dataclass(frozen=True)
class ErrorValue:
    """An XLSX cell showing an error such as #DIV/0! or #REF!."""

    text: str

    def __str__(self) -> str:
        return self.text


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _shown(value) -> str:
    return repr(str(value)[:40])


def _spreadsheet_trouble(value) -> None:
    if isinstance(value, FormulaWithoutValue):
        raise CellProblem(
            f"the cell holds a formula ({str(value)[:60]}) with no saved value: the program that wrote the file did "
            "not calculate it. Open the file in Excel or LibreOffice, let it calculate, save it, and upload it again "
            "(or type the value instead of the formula)."
        )
    if isinstance(value, ErrorValue):
        raise CellProblem(f"the cell shows the error {value.text}; correct the spreadsheet and upload it again.")


# --- numbers ------------------------------------------------------------------------------------------------

_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " "})


def _pattern(decimal: str, thousands: str) -> re.Pattern:
    d, t = re.escape(decimal), "[" + re.escape(thousands) + "]"
    return re.compile(rf"(?P<int>[1-9]\d{{0,2}}(?:(?P<t>{t})\d{{3}})(?:(?P=t)\d{{3}})*|\d+)?(?:{d}(?P<frac>\d+))?")


_POINT = _pattern(".", ", '")  # 1,234.56  1 234.56  1'234.56
_COMMA = _pattern(",", ". '")  # 1.234,56  1 234,56  1'234,56


def read_decimal(text: str, options: ReadOptions, *, whole: bool, noun: str) -> Decimal:
    """A number written as text, by the rule in the module docstring. `noun` names what was expected."""
    shown = _shown(text)
    s = text.translate(_SPACES).strip()
    negative = s.startswith("-")
    s = s.removeprefix("-").strip().removeprefix("$").strip()
    if not negative and s.startswith("-"):  # $-5
        negative, s = True, s[1:].strip()
    separator = options.decimal_separator
    match = (_COMMA if separator == "," else _POINT).fullmatch(s) if s else None
    if match is None or not (match["int"] or match["frac"]):
        if separator == "" and "," in s and re.fullmatch(r"[\d.,' ]+", s):
            raise CellProblem(
                f"{shown} may be written with a decimal comma, so it is not read. Choose the file's decimal "
                "separator when you upload it, or write the number with a decimal point and no other separators."
            )
        if separator and re.fullmatch(r"[\d.,' ]+", s):
            name = "comma" if separator == "," else "point"
            raise CellProblem(f"{shown} is not a number written with a decimal {name}, as this upload declares.")
        raise CellProblem(f"expected {noun}, got {shown}.")
    if whole and separator == "" and match["frac"] is not None and len(match["frac"]) == 3 and not match["t"]:
        raise CellProblem(
            f"{shown} may use a point as a thousands separator, so it is not read. Choose the file's decimal "
            "separator when you upload it, or write the number without separators."
        )
    digits = (match["int"] or "0").replace(match["t"] or " ", "") + "." + (match["frac"] or "0")
    amount = Decimal(digits)
    return -amount if negative else amount


def parse_whole(value, options: ReadOptions) -> int:
    """A whole number (shares, a year)."""
    _spreadsheet_trouble(value)
    if isinstance(value, bool):
        raise CellProblem(f"expected a whole number, got {value!r}.")
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal):
        if value != value or value in (float("inf"), float("-inf")):
            raise CellProblem(f"expected a whole number, got {value}.")
        if value == int(value):
            return int(value)
        raise CellProblem(f"expected a whole number, got {value:g}.")
    if isinstance(value, datetime.date):
        raise CellProblem(f"expected a whole number, got a date ({value:%Y-%m-%d}).")
    if isinstance(value, str):
        amount = read_decimal(value, options, whole=True, noun="a whole number")
        if amount != amount.to_integral_value():
            raise CellProblem(f"expected a whole number, got {_shown(value)}.")
        return int(amount)
    raise CellProblem(f"expected a whole number, got {_shown(value)}.")


def parse_money(value, options: ReadOptions) -> Decimal:
    """Dollars: a price per share or a debt amount."""
    _spreadsheet_trouble(value)
    noun = "a number of dollars"
    if isinstance(value, bool | datetime.date):
        raise CellProblem(f"expected {noun}, got {_shown(value)}.")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise CellProblem(f"expected {noun}, got {value}.")
        # A binary float such as 0.15000000000000002 (a price computed in the sheet) as the decimal it shows.
        return Decimal(format(value, ".15g"))
    if isinstance(value, Decimal):
        return value
    if isinstance(value, str):
        try:
            return read_decimal(value, options, whole=False, noun=noun)
        except InvalidOperation:  # pragma: no cover - the pattern only lets digits through
            raise CellProblem(f"expected {noun}, got {_shown(value)}.") from None
    raise CellProblem(f"expected {noun}, got {_shown(value)}.")


# --- dates and text -----------------------------------------------------------------------------------------


def parse_date(value, options: ReadOptions) -> datetime.date:
    """A date cell, an Excel date serial stored as a plain number, or ISO text (YYYY-MM-DD)."""
    _spreadsheet_trouble(value)
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1 <= value <= LARGEST_EXCEL_SERIAL:
            moment = from_excel(value, options.epoch)
            return moment.date() if isinstance(moment, datetime.datetime) else moment
        raise CellProblem(f"expected a date, got the number {value:g}.")
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise CellProblem(f"expected a date as YYYY-MM-DD, got {_shown(value)}.")


def unescape_text(text: str) -> str:
    """Undo the exports' CSV formula escaping: "'=x" (an apostrophe before text the CSV writer escapes) is "=x",
    so that a CSV export imports as the ledger holds it."""
    from ..reports.writers import escape_cell

    if text.startswith("'") and escape_cell(text[1:]) == text:
        return text[1:]
    return text


def parse_text(value, options: ReadOptions | None = None) -> str:
    _spreadsheet_trouble(value)
    if isinstance(value, bool):
        raise CellProblem(f"expected text, got {value!r}.")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime | datetime.date):
        raise CellProblem("expected text, got a date.")
    return unescape_text(str(value).strip())


def choice(choices, noun: str):
    """A parser for one of `choices` ((value, label) pairs), by value or label, in any case."""
    by_key = {}
    for value, label in choices:
        by_key[value.lower()] = value
        by_key[str(label).lower()] = value

    def parse(value, options: ReadOptions) -> str:
        text = parse_text(value, options)
        found = by_key.get(text.lower().replace("-", " ")) or by_key.get(
            text.lower().replace(" ", "_").replace("-", "_")
        )
        if found is None:
            allowed = ", ".join(value for value, _ in choices)
            raise CellProblem(f"{_shown(text)} is not a {noun}; use one of {allowed}.")
        return found

    parse.labels = [str(label) for _, label in choices]
    return parse
