"""What the medical profile's entries may hold (PRO-1): the plausible
measurements, the severities and relationships it knows, the bounds on its
sections and texts, and the checks its commands run on each entry.

None of these is stored by topic; :class:`espace.domain.profile.MedicalProfile`
and its events use them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from espace.domain import calendar
from espace.domain.errors import RuleViolation

HEIGHT_CM = (Decimal(20), Decimal(272))
"""PRO-1: plausible heights, in centimetres, bounds included.

From the smallest surviving premature newborns (about 20 cm at 22 weeks) to
the tallest person ever measured (272 cm). Anything outside is a unit mistake
(1.75 typed in metres, 1750 in millimetres), not a person. The bounds are
wide on purpose: refusing a real value is worse than accepting an odd one."""
WEIGHT_KG = (Decimal("0.3"), Decimal(650))
"""PRO-1: plausible weights, in kilograms, bounds included.

From extremely premature newborns (about 300 g) to the heaviest people
recorded (above 600 kg). It catches grams typed as kilograms (72000) and
tonnes, never a real person."""
SEVERITIES = ("mild", "moderate", "severe", "unknown")
RELATIONSHIPS = ("spouse", "partner", "parent", "child", "sibling", "friend", "other")
MAX_ENTRIES = 200
"""Per section: far above any real profile, a bound against runaway input."""
MAX_TEXT = 200

SECTIONS = {
    "allergies": "allergy",
    "conditions": "condition",
    "treatments": "treatment",
    "vaccinations": "vaccination",
}


def in_range(
    field: str, value: Decimal | None, bounds: tuple[Decimal, Decimal], unit: str
) -> None:
    """PRO-1: ``value`` within ``bounds``, or the RuleViolation that says so."""
    if value is None:
        return
    low, high = bounds
    if not low <= value <= high:
        raise RuleViolation(
            "PRO-1", f"{field} {value} is not plausible: {low} to {high} {unit}"
        )


def required(value: str, field: str) -> str:
    """PRO-1: a text of 1 to :data:`MAX_TEXT` characters, stripped."""
    text = (value or "").strip()
    if not text or len(text) > MAX_TEXT:
        raise RuleViolation("PRO-1", f"{field}: 1 to {MAX_TEXT} characters")
    return text


def optional(value: str | None) -> str | None:
    """PRO-1: a text of at most :data:`MAX_TEXT` characters, stripped, or None."""
    text = (value or "").strip()
    if len(text) > MAX_TEXT:
        raise RuleViolation("PRO-1", f"at most {MAX_TEXT} characters")
    return text or None


def not_future(day: date | None, at: datetime) -> None:
    """PRO-1: a day not after the Paris date of ``at``."""
    if day is not None and day > calendar.paris_date(at):
        raise RuleViolation("PRO-1", f"{day.isoformat()} is in the future")
