"""URL path converters."""

from django.urls import register_converter

from .security.inputs import MAX_ID


class RowIdConverter:
    """A row id in a path: 1 to 19 ASCII digits, at most the largest 64-bit id. Anything else matches no URL (404):
    Django's `int` converter takes any length, and a 30-digit id fails in the database driver (a server error)."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 0 < number <= MAX_ID:
            raise ValueError("not a row id")  # the URL resolver then tries the next pattern, and at the end, 404
        return number

    def to_url(self, value) -> str:
        return str(int(value))


register_converter(RowIdConverter, "id")
