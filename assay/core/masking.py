"""Masking a data value before a check quotes it in a finding.

Any check may quote a value (a rare category, a suspicious cell); one that could
be personal data is masked first. Kept here, below the areas, so that data
checks need not import the security package (which imports them).
"""

from __future__ import annotations

import re

_MAYBE_PERSONAL = re.compile(r"@|\d(?:[\s().\-/]{0,3}\d){6,}")


def mask(text: str) -> str:
    """Hide a value for a report: letters and digits become ``*`` except the first and
    the last two (only when there are at least eight); punctuation stays.

    Examples
    --------
    >>> mask("john.doe@example.com")
    'j***.***@*******.*om'
    >>> mask("4111 1111 1111 1111")
    '4*** **** **** **11'
    >>> mask("12-34")
    '**-**'
    """
    alnum = [i for i, ch in enumerate(text) if ch.isalnum()]
    keep = set()
    if len(alnum) >= 8:
        keep = {alnum[0], *alnum[-2:]}
    return "".join(ch if (not ch.isalnum() or i in keep) else "*" for i, ch in enumerate(text))


def for_display(value: object, limit: int = 60) -> str:
    """A data value as shown in a report by checks that are not about PII: masked
    (:func:`mask`) when it could hold personal data (an ``@`` or seven digits and
    more), and shortened.

    Examples
    --------
    >>> for_display("purple"), for_display("(212) 555-0199")
    ('purple', '(2**) ***-**99')
    """
    text = str(value)
    if _MAYBE_PERSONAL.search(text):
        text = mask(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
