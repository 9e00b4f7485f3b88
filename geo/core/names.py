"""Names as people type them (any case, English or Chinese) → the canonical names of a vocabulary.

A dispatcher writes ``Fire``, ``消防`` or ``drinking water``; the registry stores ``fire`` and
``water``. Every such list goes through :func:`resolve_names`, so the command line, the web API
and the registry agree on what a name means, and a name that means nothing is an error naming the
field, listing the allowed values and suggesting the closest one: never a filter that silently
matches nothing.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

from geo.errors import ValidationError

# difflib's similarity ratio above which a known name is offered as "did you mean": low enough
# for two-character Chinese names that differ in one character, high enough to stay quiet on junk.
SUGGEST_CUTOFF = 0.5


def normalise(name: object) -> str:
    """``name`` without the differences that never change its meaning: case, full-width forms
    (typed with a Chinese input method), and spaces, hyphens or underscores between words."""
    folded = unicodedata.normalize("NFKC", str(name)).casefold().strip()
    return re.sub(r"[\s_\-]+", "_", folded)


Names = Mapping[str, Iterable[str]]  # canonical name -> the other names it is known by


def resolve(text: object, known: Names | Iterable[str]) -> str | None:
    """The canonical name ``text`` stands for among ``known`` (canonical names, or a mapping of
    each to its other names), after :func:`normalise`; the first where several match; None if
    none does. A canonical name as given is answered without normalising anything (most cells
    of a file hold one)."""
    keys = known.keys() if isinstance(known, Mapping) else known
    if text in keys:
        return str(text)
    labels = known if isinstance(known, Mapping) else dict.fromkeys(keys, ())
    matches = _lookup(_non_empty(labels)).get(normalise(text), ())
    return matches[0] if matches else None


def shown(known: Names | Iterable[str]) -> str:
    """The allowed canonical names for a message, each with its first other name that reads
    differently: ``fire (消防), medical (医疗), ...``."""
    if not isinstance(known, Mapping):
        return ", ".join(known)
    labels = _non_empty(known)
    return ", ".join(_shown(canonical, labels) for canonical in labels)


def resolve_names(field: str, given: Iterable[object], labels: Names, *,
                  what: str) -> list[str]:
    """The canonical name of each of ``given``, in order.

    ``labels`` maps each canonical name to the other names it may be written as (its Chinese and
    English labels, say); all are matched after :func:`normalise`, and a canonical name wins over
    another's label. Raises :class:`ValidationError` naming ``field`` for every name that matches
    none (or several) of them, with the allowed values and the closest known name.
    """
    labels = _non_empty(labels)
    lookup = _lookup(labels)
    resolved, problems = [], []
    for name in given:
        matches = lookup.get(normalise(name), ())
        if len(matches) == 1:
            resolved.append(matches[0])
        elif matches:
            problems.append(f"{str(name)!r} is ambiguous: it may be {' or '.join(matches)}")
        else:
            problems.append(f"{str(name)!r} is not a known {what}"
                            f"{_suggestion(name, lookup, labels)}")
    if problems:
        raise ValidationError(f"{field}: {'; '.join(problems)}; allowed: {shown(labels)}")
    return resolved


def _non_empty(labels: Names) -> dict[str, tuple[str, ...]]:
    """The labels without the empty ones (None, NaN, "") a catalogue may hold: they name
    nothing."""
    return {canonical: tuple(n for n in names if isinstance(n, str) and n.strip())
            for canonical, names in labels.items()}


def _lookup(labels: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """Normalised name → the canonical names it stands for (one, unless labels collide)."""
    lookup: dict[str, tuple[str, ...]] = {}
    for canonical, names in labels.items():
        for label in names:
            key = normalise(label)
            if canonical not in lookup.get(key, ()):
                lookup[key] = (*lookup.get(key, ()), canonical)
    for canonical in labels:
        lookup[normalise(canonical)] = (canonical,)
    return lookup


def _suggestion(name: object, lookup: Mapping[str, tuple[str, ...]],
                labels: Mapping[str, Sequence[str]]) -> str:
    close = difflib.get_close_matches(normalise(name), list(lookup), n=1, cutoff=SUGGEST_CUTOFF)
    if not close or len(lookup[close[0]]) != 1:
        return ""
    return f" (did you mean {_shown(lookup[close[0]][0], labels)}?)"


def _shown(canonical: str, labels: Mapping[str, Sequence[str]]) -> str:
    """``medical (医疗)``: a canonical name with its first label that reads differently."""
    other = next((n for n in labels[canonical] if normalise(n) != normalise(canonical)), None)
    return f"{canonical} ({other})" if other else canonical
