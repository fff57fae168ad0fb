"""The synthetic population: insured people, their professionals, the feed.

People get valid NIRs (Corsica and births abroad included) and coherent INS
traits; a fifth of them are minors with a parent. Professionals get a valid
IdNatPS. The insurer's feed has a few bad and duplicate rows.
"""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from stdnum import luhn
from stdnum.fr import nir as stdnum_nir

from espace.domain.actors import Actor, ActorKind
from espace.domain.identifiers import NIR_OID

BIRTHPLACES = [
    "75056",
    "69123",
    "13055",
    "2A004",
    "2B033",
    "33063",
    "59350",
    "99126",
    "99350",
]
BIRTH_NAMES = [
    "MARTIN",
    "BERNARD",
    "DUBOIS",
    "THOMAS",
    "ROBERT",
    "PETIT",
    "DURAND",
    "LEROY",
    "MOREAU",
    "SIMON",
    "LAURENT",
    "LEFEBVRE",
    "MICHEL",
    "GARCIA",
]
FIRST_NAMES = {
    "M": ["Jean", "Louis", "Hugo", "Lucas", "Nathan", "Paul", "Yanis"],
    "F": ["Marie", "Emma", "Louise", "Jade", "Alice", "Chloé", "Inès"],
}


PROFESSIONAL_MIX = [
    ("physician", 40),
    ("pharmacist", 15),
    ("nurse", 15),
    ("midwife", 4),
    ("dentist", 6),
    ("physiotherapist", 6),
]
"""The synthetic pool of professionals (profession, how many)."""


def make_professional(rng: random.Random, profession: str) -> Actor:
    """A professional with a valid IdNatPS: 8 + an 11-digit Luhn RPPS (ID-3)."""
    body = f"1{rng.randint(0, 10**9 - 1):09d}"
    return Actor(
        ActorKind.PROFESSIONAL, "8" + body + luhn.calc_check_digit(body), profession
    )


def make_professionals(rng: random.Random) -> dict[str, list[Actor]]:
    """The pool of ``PROFESSIONAL_MIX``, by profession, in its order."""
    return {
        profession: [make_professional(rng, profession) for _ in range(n)]
        for profession, n in PROFESSIONAL_MIX
    }


@dataclass
class Person:
    """A synthetic insured person: the feed's row, and what the simulation
    learns of them as it goes (espace, activation code, documents, the
    professionals they consented to)."""

    line: int
    nir: str
    birth_date: date
    vitale_serial: str
    row: dict[str, str]
    espace_id: UUID | None = None
    code: str | None = None
    notice_day: int = 0
    documents: list[UUID] = field(default_factory=list)
    consented: set[str] = field(default_factory=set)


def make_person(rng: random.Random, line: int, today: date) -> Person:
    """A synthetic insured person with a valid NIR and coherent INS traits."""
    sex = rng.choice("MF")
    minor = rng.random() < 0.2
    age_days = (
        rng.randint(0, 17 * 365) if minor else rng.randint(18 * 365 + 1, 95 * 365)
    )
    birth = today - timedelta(days=age_days)
    place = rng.choice(BIRTHPLACES)
    body = f"{1 if sex == 'M' else 2}{birth.year % 100:02d}{birth.month:02d}{place}"
    body += f"{rng.randint(1, 999):03d}"
    nir = body + stdnum_nir.calc_check_digits(body)
    serial = f"{rng.randint(10**9, 10**10 - 1)}"
    name = rng.choice(BIRTH_NAMES)
    row = {
        "nir": nir,
        "birth_name": name,
        "first_names": rng.choice(FIRST_NAMES[sex]),
        "birth_date": birth.isoformat(),
        "sex": sex,
        "birthplace_code": place,
        "vitale_serial": serial,
        "legacy_dmp_ref": f"DMP-{rng.randint(10**7, 10**8 - 1)}"
        if rng.random() < 0.1
        else "",
    }
    if minor:
        row.update(
            representative_name=f"{rng.choice(FIRST_NAMES['F'])} {name}",
            representative_role="parent",
            representative_email=f"parent.{line}@example.org"
            if rng.random() < 0.8
            else "",
            representative_postal_address=f"{line} rue de la Paix, 75002 Paris",
        )
    elif rng.random() < 0.7:
        row["email"] = f"person.{line}@example.org"
    else:
        row["postal_address"] = f"{line} avenue de la République, 69003 Lyon"
    return Person(line, nir, birth, serial, row)


def _corrupt(rng: random.Random, row: dict[str, str]) -> dict[str, str]:
    """A bad copy of a row: a wrong NIR key, no birth name, or no such day."""
    bad = dict(row)
    choice = rng.randrange(3)
    if choice == 0:
        bad["nir"] = row["nir"][:-2] + f"{(int(row['nir'][-2:]) + 1) % 97:02d}"
    elif choice == 1:
        bad["birth_name"] = ""
    else:
        bad["birth_date"] = "1990-02-30"
    return bad


def make_feed(
    rng: random.Random, population: list[Person]
) -> list[tuple[int, dict[str, Any]]]:
    """The insurer's feed of ``population``: about 0.5 % of the rows are bad,
    about 0.5 % are sent twice."""
    feed: list[tuple[int, dict[str, Any]]] = []
    for person in population:
        roll = rng.random()
        if roll < 0.005:
            feed.append((person.line, _corrupt(rng, person.row)))
            continue
        feed.append((person.line, person.row))
        if roll < 0.01:
            feed.append((person.line, person.row))  # sent twice by the insurer
    return feed


IDNATPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
"""ANS: the OID of the IdNatPS, as a legacy DMP names its authors."""


def legacy_bundle(person: Person, idnatps: str, care: datetime) -> dict[str, Any]:
    """LC-6: a legacy DMP as the insurer's batch sends it (ADR-0032): a FHIR
    R4 Bundle with the person's Patient (their INS), a consultation note by
    ``idnatps`` and a vaccination record the person uploaded."""
    ref = person.row["legacy_dmp_ref"]
    patient_url = f"urn:uuid:{uuid5(NAMESPACE_URL, f'urn:legacy-dmp:{ref}')}"

    def reference(key: str, loinc: str, title: str, by: dict[str, Any]) -> Any:
        content = f"{title}, {ref}".encode()
        return {
            "resource": {
                "resourceType": "DocumentReference",
                "id": f"{ref}-{key}",
                "identifier": [{"system": "urn:legacy-dmp", "value": f"{ref}-{key}"}],
                "status": "current",
                "type": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
                "subject": {"reference": patient_url},
                "author": [by],
                "description": title,
                "context": {"period": {"start": care.isoformat()}},
                "content": [
                    {
                        "attachment": {
                            "contentType": "text/plain",
                            "data": base64.b64encode(content).decode(),
                        }
                    }
                ],
            }
        }

    physician = {"identifier": {"system": IDNATPS_SYSTEM, "value": idnatps}}
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "fullUrl": patient_url,
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [
                        {"system": f"urn:oid:{NIR_OID}", "value": person.nir}
                    ],
                },
            },
            reference("cr", "11488-4", "Compte rendu (DMP historique)", physician),
            reference(
                "vac",
                "11369-6",
                "Vaccinations (DMP historique)",
                {"reference": patient_url},
            ),
        ],
    }
