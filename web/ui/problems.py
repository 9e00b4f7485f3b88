"""The registry's and the API's problem texts ("-5 is negative (must be ≥ 0)") in the page's
language. The server words each problem in English with the value in it; these patterns let
the page say the same in Chinese, keeping the value: each is a regular expression over the
English text and a message of the catalogue with the captured parts as placeholders.

tests/web/ui/test_problems.py makes every problem the registry's checks can say and requires
a pattern for it, so a new wording cannot reach a Chinese user untranslated unnoticed.
"""

from __future__ import annotations

from web.ui import i18n


def N_(message: str) -> str:  # noqa: N802 (gettext's marker: extracted, translated later)
    return message


# (regular expression in Python syntax, message). Order matters: the first match wins.
PATTERNS: tuple[tuple[str, str], ...] = (
    (r"^required field is missing$", N_("required field is missing")),
    (r"^unknown field$", N_("unknown field")),
    (r"^empty geometry$", N_("empty geometry")),
    (r"^(?P<value>.+) is too large a number$", N_("{value} is too large a number")),
    (r"^(?P<value>.+) is not a valid int$", N_("{value} is not a whole number")),
    (r"^(?P<value>.+) is not a valid float$", N_("{value} is not a number")),
    (r"^(?P<value>.+) is not a valid bool$", N_("{value} is not yes or no")),
    (r"^(?P<value>.+) is not a valid list$", N_("{value} is not a list")),
    (r"^(?P<value>.+) is not a valid dict$", N_("{value} is not a table of names and values")),
    (r"^(?P<value>.+) is not a valid datetime$", N_("{value} is not a date and time")),
    (r"^(?P<value>.+) is not a valid (?P<kind>\w+)$", N_("{value} is not a valid {kind}")),
    (r"^(?P<value>.+) is not a finite number$", N_("{value} is not a finite number")),
    (r"^(?P<value>\S+) is negative \(must be ≥ 0\)$", N_("{value} is negative (must be ≥ 0)")),
    (r"^(?P<value>\S+) is below (?P<minimum>\S+) \(must be ≥ \S+\)$",
     N_("{value} is below the minimum {minimum}")),
    (r"^(?P<value>\S+) is above the maximum (?P<maximum>\S+)$",
     N_("{value} is above the maximum {maximum}")),
    (r"^(?P<value>.+) is not one of (?P<allowed>.+)$",
     N_("{value} is not one of: {allowed}")),
    (r"^coordinates are not finite numbers \(NaN or infinite\)$",
     N_("coordinates are not finite numbers")),
    (r"^coordinates out of range (?P<where>.+)$", N_("coordinates out of range {where}")),
    (r"^invalid geometry: (?P<reason>.+)$", N_("invalid geometry: {reason}")),
    (r"^point (?P<point>\(.+\)) lat,lon is outside the registry's region (?P<region>.+)$",
     N_("point {point} (lat, lon) is outside the registry's region {region}")),
    (r"^Input should be greater than or equal to (?P<minimum>\S+)$",
     N_("must be at least {minimum}")),
    (r"^Input should be less than or equal to (?P<maximum>\S+)$",
     N_("must be at most {maximum}")),
    (r"^Input should be greater than (?P<minimum>\S+)$", N_("must be more than {minimum}")),
    (r"^Input should be a valid number.*$", N_("must be a number")),
    (r"^Input should be a valid integer.*$", N_("must be a whole number")),
    (r"^String should have at least (?P<n>\d+) characters?$",
     N_("must have at least {n} characters")),
)


def for_page() -> list[dict[str, str]]:
    """The patterns in JavaScript's syntax, with their messages in this request's language."""
    return [{"pattern": pattern.replace("(?P<", "(?<"), "message": i18n.gettext(message)}
            for pattern, message in PATTERNS]
