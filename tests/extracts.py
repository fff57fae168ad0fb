"""Test data shared by the integration, property and CLI tests.

Importable as ``extracts`` (``pythonpath = ["tests"]`` in pyproject.toml).
The national formats are written out here, not taken from the code under test.
"""

from __future__ import annotations

DIRECTORY_HEADER = (
    "Identification nationale PP|Type d'identifiant PP|Nom d'exercice|"
    "Prénom d'exercice|Code profession|Libellé profession|"
)
PROFESSION_CODES = {
    "physician": "10",
    "pharmacist": "21",
    "dentist": "40",
    "nurse": "60",
}

FEED_COLUMNS = [
    "nir",
    "birth_name",
    "first_names",
    "birth_date",
    "sex",
    "birthplace_code",
    "vitale_serial",
    "email",
    "postal_address",
    "representative_name",
    "representative_role",
    "representative_email",
    "legacy_dmp_ref",
]
"""LC-1: the columns of the insurer's affiliation feed the CLI tests write
(``espace affiliate``), in their order."""


def directory_extract(idnatps_and_professions: list[tuple[str, str]]) -> str:
    """PRO-2: the national extract listing these professionals (a professional
    the directory does not list acts on no espace)."""
    rows = [
        f"{i}|{i[0]}|NOM{n}|Prénom|{PROFESSION_CODES[p]}|{p}|"
        for n, (i, p) in enumerate(idnatps_and_professions)
    ]
    return "\n".join([DIRECTORY_HEADER, *rows]) + "\n"
