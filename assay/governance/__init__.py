"""Governance documents: standards crosswalk, remediation plan, evidence pack, audit diff.

- :func:`load_crosswalk`, :func:`governance_record`: which NIST AI RMF
  subcategories and ISO/IEC 42001 Annex A controls each check gives evidence
  for (reference data in ``crosswalk.yaml``).
- :func:`remediation_plan`: what to do next, most important first.
- :func:`build_pack`, :func:`verify_pack`, :func:`extract_pack`,
  :func:`generate_keypair`: a signed, verifiable zip of an audit's documents
  (signing needs ``pip install 'assay[governance]'``).
- :func:`diff_reports`: status changes and metrics that moved beyond their
  intervals between two audits.

The model card itself is a renderer: :func:`assay.render.model_card.render_model_card`.
"""

from assay.governance._crosswalk import (
    CheckEntry,
    Control,
    Crosswalk,
    Subcategory,
    governance_record,
    load_crosswalk,
)
from assay.governance._diff import diff_reports, is_empty, regressions
from assay.governance._evidence import (
    EvidenceError,
    Problem,
    Verification,
    build_pack,
    extract_pack,
    generate_keypair,
    verify_pack,
)
from assay.governance._owner import OWNER_FIELDS, owner_fields, read_owner_fields
from assay.governance._plan import remediation_plan, rerun_command

__all__ = [
    "OWNER_FIELDS",
    "CheckEntry",
    "Control",
    "Crosswalk",
    "EvidenceError",
    "Problem",
    "Subcategory",
    "Verification",
    "build_pack",
    "diff_reports",
    "extract_pack",
    "generate_keypair",
    "governance_record",
    "is_empty",
    "load_crosswalk",
    "owner_fields",
    "read_owner_fields",
    "regressions",
    "remediation_plan",
    "rerun_command",
    "verify_pack",
]
