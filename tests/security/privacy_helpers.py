"""Tables with planted personal data and planted poisoning, built so the tests know every answer."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from assay.testing import run_check

run = partial(run_check, target="y")
"""``run(check_id, test, train=None, current=None, *, model=None, **config)``: one check
through ``assay.audit`` (:func:`assay.testing.run_check`, target ``y``)."""


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return total % 10 == 0


def card_numbers(n: int, rng: np.random.Generator, *, valid: bool) -> list[str]:
    """Visa-shaped 16-digit numbers, grouped by four, that pass (or fail) the Luhn check."""
    out = []
    while len(out) < n:
        digits = "4" + "".join(str(d) for d in rng.integers(0, 10, 15))
        if luhn_ok(digits) == valid:
            out.append(" ".join(digits[i : i + 4] for i in range(0, 16, 4)))
    return out


def phone_numbers(n: int, rng: np.random.Generator) -> list[str]:
    """US numbers in common layouts, with real area codes."""
    area = rng.choice([212, 415, 646, 718, 312, 617, 206, 303], n)
    exch = rng.integers(201, 989, n)
    line = rng.integers(0, 10000, n)
    layouts = ["({a}) {e}-{s:04d}", "{a}-{e}-{s:04d}", "+1 {a} {e} {s:04d}", "{a}.{e}.{s:04d}"]
    return [
        layouts[i % 4].format(a=a, e=e, s=s)
        for i, (a, e, s) in enumerate(zip(area, exch, line, strict=True))
    ]


def people(n: int = 800, seed: int = 0) -> pd.DataFrame:
    """A customer table with personal data planted at known places.

    - ``email``: an e-mail address in every row; ``phone``: a phone number in every row;
      ``card``: a valid card number in every row;
    - ``notes``: free text; rows ``i % 20 == 0`` mention an e-mail address, rows
      ``i % 20 == 10`` a phone number (5% each);
    - look-alikes that are not personal data: ``order_ref`` (``ORD-2024-000123``),
      ``bad_card`` (card-shaped numbers failing Luhn), ``version`` (``1.2.3.4``-like),
      ``account_id`` (10-digit integers), ``sku`` (short codes);
    - ``dob``: named like a date of birth; ``gender``: named like a sensitive attribute.
    """
    rng = np.random.default_rng(seed)
    i = np.arange(n)
    notes = np.array([f"asked about the delivery of parcel {k % 97}" for k in i], dtype=object)
    notes[i % 20 == 0] = [
        f"wrote from jane.doe{k}@mailbox.org about a refund" for k in i[i % 20 == 0]
    ]
    notes[i % 20 == 10] = [
        f"please call back on {p} tomorrow" for p in phone_numbers(int((i % 20 == 10).sum()), rng)
    ]
    x = rng.normal(size=n)
    return pd.DataFrame(
        {
            "email": [f"customer{k}@example.com" for k in i],
            "phone": phone_numbers(n, rng),
            "card": card_numbers(n, rng, valid=True),
            "notes": notes,
            "order_ref": [f"ORD-2024-{k:06d}" for k in rng.permutation(n)],
            "bad_card": card_numbers(n, rng, valid=False),
            "version": [
                f"{a}.{b}.{c}.{d}"
                for a, b, c, d in zip(*(rng.integers(0, 12, (4, n))), strict=True)
            ],
            "account_id": rng.integers(10**9, 10**10 - 1, n),
            "sku": [f"SKU-{k % 50:03d}" for k in i],
            "dob": rng.choice(["1980-02-01", "1975-06-12", "1991-11-30"], n),
            "gender": rng.choice(["f", "m", "x"], n),
            "x": x,
            "y": (x + rng.normal(scale=0.5, size=n) > 0).astype(int),
        }
    )
