"""Find personal data in string values with Presidio, offline and fast (private).

The analyzer is Presidio's ``AnalyzerEngine`` with its no-op NLP engine (no
spaCy model is downloaded or loaded: only pattern recognizers run) and a
curated set of recognizers whose patterns are validated by a checksum or a
strict parser: e-mail addresses, phone numbers (python-phonenumbers), credit
cards (Luhn), IBANs (mod-97), IP and MAC addresses, US social security
numbers and crypto wallet addresses. The e-mail recognizer's domain check uses
tldextract with its bundled public-suffix list, so nothing reaches for the
network.

Speed comes from three things, none of which changes what Presidio decides:

- each distinct value is analyzed once, and counted by how many rows hold it;
- a vectorized regular expression per kind of entity (a Polars column
  expression) keeps only values that could hold that entity at all: no ``@``,
  no e-mail address;
- the values that pass are joined into one text per batch, analyzed in one
  call restricted to that entity, and the matches are mapped back to their
  values (a match that crosses two values is dropped).

Rules on top of Presidio, so look-alike values stay quiet:

- a phone number written as bare digits (``2125550199``) counts only with a
  supporting context word (the column is named ``phone``, ``mobile``...);
  an order number or id is not a phone number;
- a column where many card-shaped numbers are seen but fewer than half pass
  the Luhn checksum holds look-alikes (random numbers pass it one time in ten),
  and its few passing numbers are not reported as cards;
- dotted quads such as ``1.2.3.4`` are reported as IP addresses unless the
  column is named like a version, or nearly all of them have every part
  below 32 (version numbers, not addresses).
"""

from __future__ import annotations

import bisect
import re
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, cast

import numpy as np
import polars as pl

# Moved to assay.core.masking (data checks use them too); re-exported for the callers here.
from assay.core.masking import for_display as for_display
from assay.core.masking import mask as mask


@dataclass(frozen=True)
class EntityKind:
    """One kind of personal data: its Presidio entity, words, and cheap prefilter."""

    entity: str
    label: str
    prefilter: str  # Rust regex (Polars) that every value holding the entity matches
    direct: bool  # identifies a person on its own (vs. indirectly, like an IP address)
    plural: str = ""

    def __post_init__(self) -> None:
        if not self.plural:
            object.__setattr__(self, "plural", self.label + "s")


ENTITY_KINDS: tuple[EntityKind, ...] = (
    EntityKind("EMAIL_ADDRESS", "e-mail address", r"@", True, "e-mail addresses"),
    EntityKind("CREDIT_CARD", "credit card number", r"\d(?:[ -]?\d){12,18}", True),
    EntityKind("IBAN_CODE", "IBAN", r"(?i)[a-z]{2}\d{2}[ ]?[a-z0-9]{4}", True),
    EntityKind("US_SSN", "US social security number", r"\d{3}[- .]?\d{2}[- .]?\d{4}", True),
    EntityKind("PHONE_NUMBER", "phone number", r"\d(?:[\s().\-/]{0,3}\d){6,}", True),
    EntityKind(
        "CRYPTO",
        "crypto wallet address",
        r"(bc1|[13])[a-km-zA-HJ-NP-Z1-9]{25,59}",
        True,
        "crypto wallet addresses",
    ),
    EntityKind(
        "IP_ADDRESS",
        "IP address",
        r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|:[0-9a-fA-F]{0,4}:",
        False,
        "IP addresses",
    ),
    EntityKind(
        "MAC_ADDRESS",
        "MAC address",
        r"(?i)[0-9a-f]{2}[:\-][0-9a-f]{2}[:\-][0-9a-f]{2}[:\-][0-9a-f]{2}",
        False,
        "MAC addresses",
    ),
)
KINDS = {k.entity: k for k in ENTITY_KINDS}
PRIORITY = {k.entity: i for i, k in enumerate(ENTITY_KINDS)}  # earlier wins a tie

SCORE_THRESHOLD = 0.4
"""Lowest Presidio score kept (a phone number's own score; patterns below it need context)."""

_PHONE_REGIONS = ("US", "GB", "DE", "FR", "IL", "IN", "BR")
# A maximal run of digits and phone punctuation that does not follow a letter:
# python-phonenumbers (leniency VALID and up) skips numbers glued to Latin letters such
# as "abc8005001234", so a run inside a hash or a code is no candidate.
_PHONE_RUN = r"(?:^|[^0-9A-Za-z])\+?\(?\d[\d\s().\-/]*\d"
_SEPARATOR = "\n\u2029\n"
_BATCH_CHARS = 200_000
_VERSION_WORDS = {"version", "ver", "release", "build", "firmware", "sw", "semver"}
_E164_MAX_DIGITS = 15
_DIGITS_ONLY = re.compile(r"^\d+$")
_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")


def presidio_available() -> bool:
    """Whether Presidio is installed (found, not imported: importing it takes a second,
    and a table with no candidate value never needs it)."""
    import importlib.util

    return importlib.util.find_spec("presidio_analyzer") is not None


@lru_cache(maxsize=1)
def _offline_tld_extractor() -> Any:
    import tldextract

    # No URLs and no cache directory: the public-suffix list bundled with tldextract.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


_ENGINE_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _engine() -> Any:
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NoOpNlpEngine
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        CryptoRecognizer,
        EmailRecognizer,
        IbanRecognizer,
        IpRecognizer,
        MacAddressRecognizer,
        PhoneRecognizer,
        UsSsnRecognizer,
    )

    class OfflineEmailRecognizer(EmailRecognizer):
        """Presidio's e-mail recognizer with the domain checked offline."""

        def validate_result(self, pattern_text: str) -> bool:
            return _offline_tld_extractor()(pattern_text).fqdn != ""

    nlp = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "no_op"}])
    nlp.load()
    registry = RecognizerRegistry(supported_languages=["en"])
    for rec in (
        OfflineEmailRecognizer(),
        CreditCardRecognizer(),
        IbanRecognizer(),
        UsSsnRecognizer(),
        # Strict grouping: "ORD-2024-000123" is not a phone number. Presidio's default
        # regions less Canada, which shares the US numbering plan (same matches, 1/8 of
        # the time saved).
        PhoneRecognizer(leniency=2, supported_regions=_PHONE_REGIONS),
        CryptoRecognizer(),
        IpRecognizer(),
        MacAddressRecognizer(),
    ):
        registry.add_recognizer(rec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # context comes from column names, passed explicitly
        return AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=["en"])


def analyzer() -> Any:
    """The shared, offline Presidio ``AnalyzerEngine`` (built once)."""
    with _ENGINE_LOCK:
        return _engine()


def context_words(name: str) -> list[str]:
    """Lower-case words of a column name (``customerPhone_2`` -> customer, phone)."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", str(name))
    return [w for w in re.split(r"[^A-Za-z]+", spaced.lower()) if w]


@dataclass(frozen=True)
class Span:
    """One entity found in a value: character offsets, kind, Presidio score."""

    start: int
    end: int
    entity: str
    score: float


def _analyze_batch(values: Sequence[str], entity: str, context: list[str]) -> list[list[Span]]:
    """Spans of ``entity`` in each of ``values``, from one Presidio call per text batch."""
    out: list[list[Span]] = [[] for _ in values]
    eng = analyzer()
    i = 0
    while i < len(values):
        starts: list[int] = []
        parts: list[str] = []
        pos = 0
        j = i
        while j < len(values) and (not parts or pos < _BATCH_CHARS):
            starts.append(pos)
            parts.append(values[j])
            pos += len(values[j]) + len(_SEPARATOR)
            j += 1
        text = _SEPARATOR.join(parts)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results = eng.analyze(
                text=text,
                language="en",
                entities=[entity],
                context=context or None,
                score_threshold=SCORE_THRESHOLD,
            )
        for r in results:
            k = bisect.bisect_right(starts, r.start) - 1
            s, e = r.start - starts[k], r.end - starts[k]
            if k < 0 or e > len(parts[k]):
                continue  # crosses two values
            out[i + k].append(Span(s, e, r.entity_type, float(r.score)))
        i = j
    return out


def _keep(span: Span, value: str, context_boosted: bool) -> bool:
    text = value[span.start : span.end]
    if span.entity != "PHONE_NUMBER":
        return True
    if sum(ch.isdigit() for ch in text) > _E164_MAX_DIGITS:
        return False  # longer than any phone number can be: a card or account number
    # Bare digits are an id or an amount unless the column says phone.
    return context_boosted or not _DIGITS_ONLY.match(text)


def _dedupe(spans: list[Span]) -> list[Span]:
    """Overlapping spans of different kinds: keep the higher score, then the higher priority."""
    ranked = sorted(spans, key=lambda s: (-s.score, PRIORITY.get(s.entity, 99), s.start))
    kept: list[Span] = []
    for s in ranked:
        if all(s.end <= k.start or s.start >= k.end for k in kept):
            kept.append(s)
    return sorted(kept, key=lambda s: s.start)


@dataclass
class ValueScan:
    """Spans found in each scanned value, and what was scanned per entity."""

    spans: dict[int, list[Span]] = field(default_factory=dict)
    candidates: dict[str, np.ndarray] = field(default_factory=dict)  # value indices
    scanned: dict[str, np.ndarray] = field(default_factory=dict)  # value indices analyzed
    dismissed: dict[str, str] = field(default_factory=dict)  # entity -> why it was dropped


def candidates(values: pl.Series) -> dict[str, np.ndarray]:
    """Indices of ``values`` that pass each entity's prefilter (one Polars query)."""
    if values.len() == 0:
        return {k.entity: np.zeros(0, dtype=np.int64) for k in ENTITY_KINDS}
    frame = pl.DataFrame({"v": values.cast(pl.String)})
    exprs = []
    for k in ENTITY_KINDS:
        hit = pl.col("v").str.contains(k.prefilter)
        if k.entity == "PHONE_NUMBER":
            # Some run of digits must have a phone number's length (7 to 15 digits):
            # a 16-digit card-shaped number is no phone number.
            digits = pl.element().str.count_matches(r"\d").is_between(7, _E164_MAX_DIGITS)
            hit = hit & pl.col("v").str.extract_all(_PHONE_RUN).list.eval(digits).list.any()
        exprs.append(hit.fill_null(False).alias(k.entity))
    hits = frame.select(exprs)
    return {k.entity: np.flatnonzero(hits.get_column(k.entity).to_numpy()) for k in ENTITY_KINDS}


def scan_values(
    values: pl.Series,
    *,
    name: str = "",
    max_values: int | None = None,
    seed: int = 0,
) -> ValueScan:
    """Analyze distinct ``values`` (a String series) for every entity kind.

    Parameters
    ----------
    values
        Distinct string values (nulls are skipped).
    name
        The column name: its words are the context Presidio may use to raise a
        score (``phone`` for bare digits), and it decides version-like columns.
    max_values
        At most this many candidate values are analyzed per entity kind, chosen
        by a seeded hash of the value (the same values whatever the row order);
        ``None`` analyzes every candidate.
    """
    result = ValueScan()
    context = context_words(name)
    cand = candidates(values)
    texts = values.cast(pl.String).to_list()
    hashes = values.cast(pl.String).hash(seed=seed).to_numpy() if values.len() else np.zeros(0)
    own_ctx = {
        "PHONE_NUMBER": {"phone", "telephone", "tel", "cell", "cellphone", "mobile", "fax", "call"},
        "US_SSN": {"ssn", "ssns", "social", "security", "ssid"},
    }
    for kind in ENTITY_KINDS:
        idx = cand[kind.entity]
        result.candidates[kind.entity] = idx
        if max_values is not None and len(idx) > max_values:
            idx = np.sort(idx[np.argsort(hashes[idx], kind="stable")[:max_values]])
        result.scanned[kind.entity] = idx
        if not len(idx):
            continue
        found = _analyze_batch([texts[i] for i in idx], kind.entity, context)
        boosted = bool(own_ctx.get(kind.entity, set()) & set(context))
        for i, spans in zip(idx.tolist(), found, strict=True):
            spans = [s for s in spans if _keep(s, texts[i], boosted)]
            if spans:
                result.spans.setdefault(i, []).extend(spans)
    _apply_column_rules(result, texts, context)
    for i in list(result.spans):
        result.spans[i] = _dedupe(result.spans[i])
        if not result.spans[i]:
            del result.spans[i]
    return result


def _drop_entity(result: ValueScan, entity: str, why: str) -> None:
    for i in list(result.spans):
        result.spans[i] = [s for s in result.spans[i] if s.entity != entity]
    result.dismissed[entity] = why


def _apply_column_rules(result: ValueScan, texts: list[str | None], context: list[str]) -> None:
    """Column-level rules that tell look-alikes from personal data (see module docs)."""
    scanned = result.scanned.get("CREDIT_CARD", np.zeros(0, dtype=np.int64))
    passed = sum(
        1
        for i in scanned.tolist()
        if any(s.entity == "CREDIT_CARD" for s in result.spans.get(i, []))
    )
    if len(scanned) >= 20 and passed < 0.5 * len(scanned):
        _drop_entity(
            result,
            "CREDIT_CARD",
            f"only {passed} of {len(scanned)} card-shaped numbers pass the Luhn checksum, "
            "about what random numbers do: look-alikes, not cards",
        )
    ips = [
        texts[i][s.start : s.end]  # type: ignore[index]  # a row with spans holds text
        for i, spans in result.spans.items()
        for s in spans
        if s.entity == "IP_ADDRESS"
    ]
    v4 = [t for t in ips if _IPV4.match(t)]
    if v4:
        small = sum(1 for t in v4 if max(int(p) for p in t.split(".")) < 32)
        if _VERSION_WORDS & set(context):
            _drop_entity(result, "IP_ADDRESS", "the column is named like a version number")
        elif small >= 0.9 * len(v4):
            _drop_entity(
                result,
                "IP_ADDRESS",
                "nearly all dotted numbers have every part below 32: version numbers, "
                "not addresses",
            )


MIN_INT_DIGITS = 7
"""Integer columns are scanned when they hold numbers of at least this many digits
(phone, card or social security numbers stored as integers)."""


def text_columns(df: pl.DataFrame) -> list[str]:
    """Columns that can hold personal data as text: strings, categories, objects, and
    integers long enough to be phone, card or social security numbers."""
    out = []
    for name, dtype in df.schema.items():
        if dtype in (pl.String, pl.Categorical, pl.Enum, pl.Object):
            out.append(name)
        elif dtype.is_integer():
            s = df.get_column(name)
            # An integer column's min and max are ints.
            hi = max(abs(cast(int, s.max() or 0)), abs(cast(int, s.min() or 0))) if s.len() else 0
            if hi >= 10 ** (MIN_INT_DIGITS - 1):
                out.append(name)
    return out


def as_text(s: pl.Series) -> pl.Series:
    """A column as strings (objects through ``str``); nulls stay null."""
    if s.dtype == pl.Object:
        return pl.Series(s.name, [None if v is None else str(v) for v in s.to_list()], pl.String)
    return s.cast(pl.String)
