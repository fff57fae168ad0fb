"""The reading of a legacy DMP's FHIR Bundle (issue 13, LC-6, ADR-0032):
every entry validated by the R4B model of its type, then each current
DocumentReference turned into a :class:`LegacyDocument`, the reverse of the
export's mapping (ADR-0031, :mod:`espace.adapters.fhir.bundle`).

Nothing here writes: a bad bundle is one :class:`InvalidInput` whose fields
name the resource (entry index and id) and the element, e.g.
``entry[3] DocumentReference/abc content[0].attachment.data``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from espace.adapters.fhir.common import CATEGORY_SYSTEM, IDNATPS_SYSTEM, LOINC
from espace.application.errors import InvalidInput
from espace.application.legacy_import import LegacyBundle, LegacyDocument
from espace.domain.document_metadata import AuthorKind
from espace.domain.errors import InvalidIdentifier
from espace.domain.identifiers import INS_OIDS, validate_idnatps

IMPORTED_STATUS = "current"
"""Only a document's current version is imported; superseded versions and
entered-in-error (deleted) documents are validated, then left out."""

Ins = tuple[str, str]
"""An INS: its OID and its number."""


class Problems:
    """The errors of a bundle, by resource and element, gathered whole."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}
        self.names: dict[str, str] = {}
        """``entry[3]`` → ``DocumentReference/abc``: each message names it."""

    def add(self, where: str, message: str) -> None:
        """One error of the element ``where``, naming its resource."""
        name = self.names.get(where.split(" ", 1)[0])
        text = f"{message} ({name})" if name else message
        self.fields.setdefault(where, []).append(text)

    def raise_if_any(self) -> None:
        """InvalidInput with every error so far, if there is one."""
        if self.fields:
            raise InvalidInput(self.fields)


class FhirBundleReader:
    """:class:`espace.application.legacy_import.BundleReader` for FHIR R4
    (R4B models of fhir.resources)."""

    def read(self, data: str | bytes | Mapping[str, Any]) -> LegacyBundle:
        """The bundle's person and documents; InvalidInput naming every bad
        resource and element, before anything is used."""
        bundle = _parsed(data)
        entries = bundle.get("entry", [])
        if not isinstance(entries, list):
            raise InvalidInput({"Bundle.entry": ["is not a list"]})
        problems = Problems()
        resources: list[tuple[str, dict[str, Any]]] = []
        urls: dict[str, str] = {}
        for i, entry in enumerate(entries):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(resource, dict):
                problems.add(f"entry[{i}]", "has no resource")
                continue
            kind = resource.get("resourceType")
            where = f"entry[{i}]"
            if isinstance(resource.get("id"), str):
                problems.names[where] = f"{kind}/{resource['id']}"
            if _valid(resource, where, problems):
                resources.append((where, resource))
                if isinstance(entry.get("fullUrl"), str):
                    urls[where] = entry["fullUrl"]
        shell = {k: v for k, v in bundle.items() if k != "entry"}
        _valid(shell, "Bundle", problems)
        problems.raise_if_any()
        return _legacy(resources, urls, problems)


def _parsed(data: str | bytes | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidInput({"bundle": [f"not JSON: {exc}"]}) from None
    if not isinstance(data, Mapping) or data.get("resourceType") != "Bundle":
        kind = data.get("resourceType") if isinstance(data, Mapping) else None
        raise InvalidInput({"bundle": [f"not a FHIR Bundle (resourceType {kind!r})"]})
    return dict(data)


def _valid(resource: dict[str, Any], where: str, problems: Problems) -> bool:
    """The resource's R4B model accepts it; else each error, by element."""
    kind = resource.get("resourceType")
    try:
        model = get_fhir_model_class(str(kind))
    except (ValueError, KeyError):
        problems.add(f"{where} resourceType", f"not a FHIR R4B resource: {kind!r}")
        return False
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        for error in exc.errors():
            message = error["msg"]
            if error["type"] == "base64_decode":
                message = f"not base64 ({message})"
            problems.add(f"{where} {kind}.{_path(error['loc'])}", message)
        return False
    return True


def _path(loc: tuple[int | str, ...]) -> str:
    """``('content', 0, 'attachment', 'data')`` as ``content[0].attachment.data``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".")


def _legacy(
    resources: list[tuple[str, dict[str, Any]]], urls: dict[str, str], p: Problems
) -> LegacyBundle:
    """The reverse mapping, once every resource is structurally valid."""
    refs: dict[str, tuple[str, dict[str, Any]]] = {}
    for where, resource in resources:
        kind, rid = resource["resourceType"], resource.get("id")
        if where in urls:
            refs[urls[where]] = (where, resource)
        if rid:
            refs[f"{kind}/{rid}"] = (where, resource)
    patients: dict[Ins, str] = {}
    for where, resource in resources:
        if resource["resourceType"] == "Patient":
            ins = _ins(resource.get("identifier", []))
            if ins is None:
                p.add(f"{where} Patient.identifier", "no INS (NIR or NIA OID)")
            else:
                patients.setdefault(ins, f"{where} Patient.identifier")
    documents: list[tuple[Ins, str, LegacyDocument]] = []
    for where, resource in resources:
        if resource["resourceType"] != "DocumentReference":
            continue
        ins = _subject(resource, where, refs, p)
        doc = _document(resource, where, refs, ins, p)
        if ins is not None and doc is not None:
            documents.append((ins, f"{where} DocumentReference.subject", doc))
    people = dict(patients)
    for ins, where, _ in documents:
        people.setdefault(ins, where)
    if len(people) > 1:
        for where in list(people.values())[1:]:
            p.add(where, "another patient: a bundle holds one person's documents")
    p.raise_if_any()
    if not people:
        raise InvalidInput(
            {"Patient.identifier": ["no patient identified by an INS in the bundle"]}
        )
    ((oid, value), where), *_ = people.items()
    return LegacyBundle(
        ins_oid=oid,
        ins_value=value,
        ins_where=where,
        documents=[d for ins, _, d in documents if d is not None],
    )


def _with_resources(entries: list[Any]) -> list[dict[str, Any]]:
    return [
        e
        for e in entries
        if isinstance(e, dict) and isinstance(e.get("resource"), dict)
    ]


def _ins(identifiers: list[dict[str, Any]]) -> Ins | None:
    for identifier in identifiers:
        system = str(identifier.get("system", ""))
        oid = system.removeprefix("urn:oid:")
        if oid in INS_OIDS and identifier.get("value"):
            return oid, str(identifier["value"])
    return None


def _subject(
    resource: dict[str, Any],
    where: str,
    refs: dict[str, tuple[str, dict[str, Any]]],
    p: Problems,
) -> Ins | None:
    """ID-2: the person a document is about, by the INS of its subject."""
    subject = resource.get("subject") or {}
    if "identifier" in subject:
        ins = _ins([subject["identifier"]])
        if ins is None:
            p.add(
                f"{where} DocumentReference.subject.identifier",
                "not an INS (system urn:oid:1.2.250.1.213.1.4.8 or …4.9)",
            )
        return ins
    found = refs.get(str(subject.get("reference")))
    if found is not None and found[1]["resourceType"] == "Patient":
        return _ins(found[1].get("identifier", []))
    p.add(
        f"{where} DocumentReference.subject",
        "names no patient: give identifier (the INS) or a reference to a Patient "
        "of the bundle",
    )
    return None


def _document(
    r: dict[str, Any],
    where: str,
    refs: dict[str, tuple[str, dict[str, Any]]],
    ins: Ins | None,
    p: Problems,
) -> LegacyDocument | None:
    """A current DocumentReference as a deposit's inputs (ADR-0031 reversed)."""
    if r.get("status") != IMPORTED_STATUS:
        return None
    el = f"{where} DocumentReference"
    before = len(p.fields)
    key = _key(r)
    if key is None:
        p.add(f"{el}.identifier", "none, and no id: the import could not be keyed")
    loinc = [c.get("code") for c in _codings(r.get("type")) if c.get("system") == LOINC]
    if not loinc:
        p.add(f"{el}.type", f"no LOINC coding (system {LOINC})")
    category = next(
        (
            c.get("code")
            for concept in r.get("category", [])
            for c in _codings(concept)
            if c.get("system") == CATEGORY_SYSTEM
        ),
        None,
    )
    author = _author(r, el, refs, ins, p)
    contents = r.get("content", [])
    attachment = contents[0].get("attachment", {}) if contents else {}
    content = _content(attachment, f"{el}.content[0].attachment", p)
    care_time = (r.get("context") or {}).get("period", {}).get("start") or r.get("date")
    if care_time is None:
        p.add(f"{el}.context.period.start", "no time of care (nor date)")
    if len(p.fields) > before or author is None or content is None or key is None:
        return None
    metadata = {
        "loinc_code": loinc[0],
        "category": category,
        "title": r.get("description") or attachment.get("title"),
        "care_time": care_time,
        "format": attachment.get("contentType"),
    }
    return LegacyDocument(
        where=where,
        key=key,
        metadata={k: v for k, v in metadata.items() if v is not None},
        content=content,
        resource=f"DocumentReference/{r.get('id', '')}",
        author_kind=author[0],
        author_id=author[1],
    )


def _key(r: dict[str, Any]) -> str | None:
    """What identifies the document in the legacy DMP: its first
    identifier, else its resource id."""
    for identifier in r.get("identifier", []):
        if identifier.get("value"):
            return f"{identifier.get('system', '')}|{identifier['value']}"
    return f"DocumentReference/{r['id']}" if r.get("id") else None


def _codings(concept: Any) -> list[dict[str, Any]]:
    if not isinstance(concept, dict):
        return []
    return [c for c in concept.get("coding", []) if isinstance(c, dict)]


def _author(
    r: dict[str, Any],
    el: str,
    refs: dict[str, tuple[str, dict[str, Any]]],
    ins: Ins | None,
    p: Problems,
) -> tuple[str, str | None] | None:
    """DOC-2: a Practitioner with an IdNatPS, or the Patient (an upload)."""
    authors = r.get("author", [])
    if not authors:
        p.add(f"{el}.author", "none: a Practitioner with an IdNatPS is required")
        return None
    ref = authors[0]
    identifiers = [ref["identifier"]] if "identifier" in ref else []
    found = refs.get(str(ref.get("reference")))
    if found is not None:
        kind = found[1]["resourceType"]
        if kind == "Patient" and _ins(found[1].get("identifier", [])) == ins:
            return AuthorKind.HOLDER, None
        if kind == "Practitioner":
            identifiers += found[1].get("identifier", [])
    for identifier in identifiers:
        if identifier.get("system") == IDNATPS_SYSTEM and identifier.get("value"):
            try:
                return AuthorKind.PROFESSIONAL, validate_idnatps(identifier["value"])
            except InvalidIdentifier as exc:
                p.add(f"{el}.author[0].identifier", str(exc))
                return None
    p.add(
        f"{el}.author[0]",
        f"no Practitioner with an IdNatPS ({IDNATPS_SYSTEM}), nor the patient",
    )
    return None


def _content(attachment: dict[str, Any], el: str, p: Problems) -> bytes | None:
    """The inline bytes, checked against ``size`` and ``hash`` if given."""
    data = attachment.get("data")
    if not data:
        p.add(f"{el}.data", "missing: only inline content (base64) is imported")
        return None
    try:
        content = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        p.add(f"{el}.data", "not base64")
        return None
    if "size" in attachment and attachment["size"] != len(content):
        p.add(
            f"{el}.size", f"is {attachment['size']}, the data has {len(content)} bytes"
        )
    if "hash" in attachment:
        sha1 = base64.b64encode(hashlib.sha1(content).digest()).decode("ascii")  # noqa: S324 - FHIR's Attachment.hash is SHA-1
        if attachment["hash"] != sha1:
            p.add(f"{el}.hash", "does not match the SHA-1 of the data")
    if not attachment.get("contentType"):
        p.add(f"{el}.contentType", "missing: the document's format")
    return content
