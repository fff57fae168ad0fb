"""The catalogue of referenced services and the holder's connections (PRO-3).
No I/O: the catalogue's CSV, its versions, and connecting or disconnecting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from espace.application.catalogue import default_catalogue_text
from espace.application.tables import catalogue_from_csv
from espace.domain.catalogue import (
    CATALOGUE_ID,
    ServiceCatalogue,
    ServiceConnections,
    connections_id,
)
from espace.domain.errors import RuleViolation

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
ESPACE = UUID("11111111-2222-4333-8444-555555555555")
HEADER = "service_id,name,provider,category,description,url\n"
LINE = "pilulier,Pilulier,Exemple Pharma,medication,Rappels,https://p.example.org\n"


def test_the_shipped_catalogue_parses_pro_3() -> None:
    services = catalogue_from_csv(default_catalogue_text())
    assert len(services) >= 3
    assert all(s.url.startswith("https://") for s in services)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("service_id,name\npilulier,P\n", "missing columns"),
        (HEADER, "no service"),
        (HEADER + LINE + LINE, "twice"),
        (HEADER + LINE.replace("pilulier,", "Pilulier!,", 1), "slug"),
        (HEADER + LINE.replace("medication", "insurance"), "category"),
        (HEADER + LINE.replace("https://", "http://"), "https"),
        (HEADER + LINE.replace("Exemple Pharma", ""), "provider"),
    ],
)
def test_a_bad_catalogue_is_refused_whole_with_its_line_pro_3(
    text: str, says: str
) -> None:
    with pytest.raises(RuleViolation) as err:
        catalogue_from_csv(text)
    assert err.value.rule == "PRO-3"
    assert says in err.value.message


def test_the_catalogue_is_published_in_versions_never_twice_the_same_pro_3() -> None:
    catalogue = ServiceCatalogue.start(at=T0)
    assert catalogue.id == CATALOGUE_ID
    assert (
        catalogue.publish(at=T0, services=catalogue_from_csv(HEADER + LINE), source="a")
        == 1
    )
    with pytest.raises(RuleViolation):
        catalogue.publish(at=T0, services=catalogue_from_csv(HEADER + LINE), source="b")
    more = HEADER + LINE + "rdv,RDV,Ex,appointments,d,https://r.example.org\n"
    assert catalogue.publish(at=T0, services=catalogue_from_csv(more), source="c") == 2
    assert sorted(catalogue.services) == ["pilulier", "rdv"]
    events = catalogue.collect_events()
    assert all(
        isinstance(e, ServiceCatalogue.Event) and type(e).KEY_SCOPE == "system"
        for e in events
    )
    with pytest.raises(RuleViolation) as err:
        catalogue.referenced("unknown-service")
    assert err.value.rule == "PRO-3"


def test_connecting_and_disconnecting_a_service_is_an_authorisation_pro_3() -> None:
    connections = ServiceConnections.start(espace_id=ESPACE, at=T0)
    assert connections.id == connections_id(ESPACE)
    service = catalogue_from_csv(HEADER + LINE)[0].as_dict()
    connections.connect(at=T0, service=service, version=1, by="holder")
    with pytest.raises(RuleViolation):
        connections.connect(at=T0, service=service, version=1, by="holder")
    connections.disconnect(
        at=T0 + timedelta(days=1), service_id="pilulier", by="holder"
    )
    with pytest.raises(RuleViolation) as err:
        connections.disconnect(
            at=T0 + timedelta(days=2), service_id="pilulier", by="holder"
        )
    assert err.value.rule == "PRO-3"
    events = connections.collect_events()
    assert [type(e).__name__ for e in events] == [
        "Started",
        "ServiceConnected",
        "ServiceDisconnected",
    ]
    assert all(
        isinstance(e, ServiceConnections.Event) and e.espace_id == ESPACE
        for e in events
    )


def test_a_catalogue_that_leaves_out_a_service_is_refused_unless_allowed_pro_3() -> (
    None
):
    """A partial file never removes services silently; every version stays
    and can be published again (the way back)."""
    catalogue = ServiceCatalogue.start(at=T0)
    more = HEADER + LINE + "rdv,RDV,Ex,appointments,d,https://r.example.org\n"
    catalogue.publish(at=T0, services=catalogue_from_csv(more), source="a")
    partial = catalogue_from_csv(HEADER + LINE)

    with pytest.raises(RuleViolation) as err:
        catalogue.publish(at=T0, services=partial, source="b")
    assert err.value.rule == "PRO-3"
    assert "rdv" in err.value.message
    assert catalogue.published_version == 1
    change = catalogue.change(partial, allow_removals=True)
    assert (change.added, change.removed, change.changed) == ([], ["rdv"], {})
    assert (
        catalogue.publish(at=T0, services=partial, source="b", allow_removals=True) == 2
    )
    assert sorted(s.service_id for s in catalogue.published(1)) == ["pilulier", "rdv"]
    assert catalogue.publish(at=T0, services=catalogue.published(1), source="v1") == 3
    assert sorted(catalogue.services) == ["pilulier", "rdv"]
    with pytest.raises(RuleViolation) as none:
        catalogue.published(9)
    assert "no version 9" in none.value.message
