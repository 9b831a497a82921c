"""Security and privacy checks: personal data (PII), poisoning signals; the
anonymization function behind ``assay anonymize``.

Importing this package registers the security checks (``security.pii``,
``security.poisoning``, and the adversarial and inference-attack checks).
Presidio, cleanlab and ART are imported only when a check runs.
"""

from assay.security import (  # noqa: F401  (imported to register the checks)
    adversarial,
    attribute_inference,
    membership,
    pii,
    poisoning,
)
