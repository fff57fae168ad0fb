"""The FHIR export's shared parts (ADR-0031): the identifier and code
systems, the error of a resource that does not validate, and the small
builders of references, codings and instants every resource uses.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeVar
from uuid import UUID

from espace.application.export import EspaceSnapshot
from espace.domain.directory import professional_id
from espace.domain.errors import EspaceError
from espace.domain.identifiers import NIA_OID, NIR_OID

IDNATPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
"""ANS: the OID of the national identifiers of professionals (IdNatPS)."""
FINESS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.2"
"""ANS: the OID of the FINESS numbers of establishments."""
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CLINICAL_STATUS = "http://terminology.hl7.org/CodeSystem/condition-clinical"
ALLERGY_STATUS = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
FR_V2_0203 = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
"""FR Core's identifier types: INS-NIR, INS-NIA, IDNPS."""
INS_TYPE = {NIR_OID: "INS-NIR", NIA_OID: "INS-NIA"}
BIRTH_PLACE = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"
INSEE_CODE = (
    "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code"
)
COG_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_R13-CommuneOM/FHIR/TRE-R13-CommuneOM"
PROFESSION_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
SPECIALTY_SYSTEM = (
    "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/"
    "TRE-R38-SpecialiteOrdinale"
)
LOINC = "http://loinc.org"
ESPACE_CS = "urn:espace:fhir:CodeSystem:"
"""Our own code systems (ADR-0031): the DMP category, the DOC-5 flags, the
grounds of a trace, the consent roles."""
CATEGORY_SYSTEM = ESPACE_CS + "dmp-category"
VISIBILITY_SYSTEM = ESPACE_CS + "doc5-visibility"
GROUND_SYSTEM = ESPACE_CS + "access-ground"
ROLE_SYSTEM = ESPACE_CS + "consent-role"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
AUDIT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
RESTFUL = "http://hl7.org/fhir/restful-interaction"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
URI = "urn:ietf:rfc:3986"

E = TypeVar("E", bound=StrEnum)


class ExportInvalid(EspaceError):
    """A resource of the export does not validate against its FHIR model
    (ADR-0031): nothing is written. It names the resource and the element."""

    code = "export_invalid"


def urn(value: UUID) -> str:
    """The ``urn:uuid:`` of an id: every fullUrl, and references by it."""
    return f"urn:uuid:{value}"


def instant(value: datetime) -> str:
    """A FHIR instant or dateTime (ISO 8601, with its offset)."""
    return value.isoformat()


def day(value: date) -> str:
    """A FHIR date."""
    return value.isoformat()


def patient_ref(s: EspaceSnapshot) -> dict[str, Any]:
    """The reference to the Patient, by its fullUrl."""
    return {"reference": urn(s.espace.id), "type": "Patient"}


def practitioner_ref(idnatps: str) -> dict[str, Any]:
    """The reference to a Practitioner, by its fullUrl and its IdNatPS."""
    return {
        "reference": urn(professional_id(idnatps)),
        "type": "Practitioner",
        "identifier": {"system": IDNATPS_SYSTEM, "value": idnatps},
    }


def coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    """A Coding."""
    found = {"system": system, "code": code}
    if display is not None:
        found["display"] = display
    return found


def concept(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    """A CodeableConcept of one Coding."""
    return {"coding": [coding(system, code, display)]}


def member(kind: type[E], value: str) -> E | None:
    """The member of ``kind`` of that value; None for a value of an older
    or newer release (a trace is kept as recorded)."""
    try:
        return kind(value)
    except ValueError:
        return None
