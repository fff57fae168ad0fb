"""FHIR, the format of the outside world (issue 13): the export of an espace
as an R4 Bundle (ADR-0031, :mod:`.bundle` and one module per kind of
resource) and the reading of a legacy DMP's Bundle (ADR-0032,
:mod:`.reader`). Only this package imports ``fhir.resources`` and pydantic
(an import-linter contract).
"""

from espace.adapters.fhir.bundle import FhirBundleWriter
from espace.adapters.fhir.common import ExportInvalid
from espace.adapters.fhir.reader import FhirBundleReader

__all__ = ["ExportInvalid", "FhirBundleReader", "FhirBundleWriter"]
