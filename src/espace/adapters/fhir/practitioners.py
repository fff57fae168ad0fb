"""The professionals of the FHIR export (ADR-0031, PRO-2): a Practitioner
per IdNatPS named, from the directory's entry as it stood, and a
PractitionerRole per place of practice; a bare Practitioner for one the
directory does not list.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import uuid5

from espace.adapters.fhir.common import (
    ESPACE_CS,
    FR_V2_0203,
    IDNATPS_SYSTEM,
    PROFESSION_SYSTEM,
    SPECIALTY_SYSTEM,
    coding,
    concept,
    practitioner_ref,
)
from espace.domain.directory import Professional, professional_id


def practitioner_resource(idnatps: str, entry: Professional | None) -> dict[str, Any]:
    """PRO-2: the directory's entry; one it does not have is a Practitioner
    with its identifier alone (ADR-0031)."""
    practitioner: dict[str, Any] = {
        "resourceType": "Practitioner",
        "id": str(professional_id(idnatps)),
        "identifier": [
            {
                "use": "official",
                "type": concept(FR_V2_0203, "IDNPS"),
                "system": IDNATPS_SYSTEM,
                "value": idnatps,
            }
        ],
    }
    if entry is None:
        practitioner["meta"] = {
            "tag": [coding(ESPACE_CS + "export", "not-in-directory")]
        }
        return practitioner
    name: dict[str, Any] = {"use": "usual", "family": entry.last_name}
    if entry.first_name:
        name["given"] = [entry.first_name]
    practitioner["name"] = [name]
    practitioner["active"] = entry.listed
    return practitioner


def role_resources(
    idnatps: str, entry: Professional | None
) -> Iterator[dict[str, Any]]:
    """PRO-2: one PractitionerRole per place of practice."""
    if entry is None:
        return
    for n, activity in enumerate(entry.activities, start=1):
        role: dict[str, Any] = {
            "resourceType": "PractitionerRole",
            "id": str(uuid5(professional_id(idnatps), f"role/{n}")),
            "active": entry.listed,
            "practitioner": practitioner_ref(idnatps),
            "code": [
                concept(
                    PROFESSION_SYSTEM, entry.profession_code, entry.profession_label
                )
            ],
        }
        if activity.get("specialty_code"):
            role["specialty"] = [
                concept(
                    SPECIALTY_SYSTEM,
                    str(activity["specialty_code"]),
                    activity.get("specialty_label"),
                )
            ]
        if activity.get("site"):
            role["organization"] = {"display": activity["site"]}
        place = " ".join(
            str(activity[k])
            for k in ("postal_code", "city", "cedex")
            if activity.get(k)
        )
        if place:
            role["location"] = [{"display": place}]
        yield role
