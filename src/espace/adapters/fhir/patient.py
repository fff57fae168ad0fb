"""The Patient of the FHIR export (ADR-0031): the INS and its five traits
(ID-2), the legal representative (LC-12) and the trusted person (PRO-1) as
contacts.
"""

from __future__ import annotations

from typing import Any

from espace.adapters.fhir.common import (
    BIRTH_PLACE,
    COG_SYSTEM,
    FR_V2_0203,
    INS_TYPE,
    INSEE_CODE,
    ROLE_CODE,
    ROLE_SYSTEM,
    coding,
    concept,
    day,
)
from espace.application.export import EspaceSnapshot


def patient_resource(s: EspaceSnapshot) -> dict[str, Any]:
    """ID-2: the INS as identifier and the five identity traits; LC-12: the
    legal representative as a contact."""
    espace = s.espace
    ins = espace.ins
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(espace.id),
        "identifier": [
            {
                "use": "official",
                "type": concept(FR_V2_0203, INS_TYPE[ins.oid]),
                "system": f"urn:oid:{ins.oid}",
                "value": ins.nir,
            }
        ],
        "name": [
            {
                "use": "official",
                "family": ins.birth_name,
                "given": ins.first_names.split(),
            }
        ],
        "gender": "male" if ins.sex == "M" else "female",
        "birthDate": day(ins.birth_date),
        "extension": [
            {
                "url": BIRTH_PLACE,
                "valueAddress": {
                    "extension": [
                        {
                            "url": INSEE_CODE,
                            "valueCoding": coding(COG_SYSTEM, ins.birthplace_code),
                        }
                    ]
                },
            }
        ],
    }
    if espace.date_of_death is not None:
        patient["deceasedDateTime"] = day(espace.date_of_death)
    if espace.email:
        patient["telecom"] = [{"system": "email", "value": espace.email}]
    if espace.postal_address:
        patient["address"] = [{"text": espace.postal_address}]
    rep = espace.representative
    if rep:
        contact: dict[str, Any] = {
            "relationship": [
                {
                    "coding": [coding(ROLE_CODE, "GUARD", "guardian")],
                    "text": rep.get("role"),
                }
            ],
            "name": {"text": rep.get("name")},
        }
        if rep.get("email"):
            contact["telecom"] = [{"system": "email", "value": rep["email"]}]
        if rep.get("postal_address"):
            contact["address"] = {"text": rep["postal_address"]}
        patient["contact"] = [contact]
    trusted = s.profile.trusted_person if s.profile is not None else None
    if trusted:
        patient.setdefault("contact", []).append(_trusted_person(trusted))
    return patient


def _trusted_person(trusted: dict[str, Any]) -> dict[str, Any]:
    """PRO-1: the person of trust (personne de confiance), a contact."""
    contact: dict[str, Any] = {
        "relationship": [
            {
                "coding": [
                    coding(ROLE_SYSTEM, "trusted-person", "personne de confiance")
                ],
                "text": trusted["relationship"],
            }
        ],
        "name": {"text": trusted["name"]},
    }
    telecom = [
        {"system": system, "value": trusted[key]}
        for system, key in (("phone", "phone"), ("email", "email"))
        if trusted.get(key)
    ]
    if telecom:
        contact["telecom"] = telecom
    return contact
