"""Export: parse(export(site)) == site, and export -> parse -> export is byte-identical."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgectl.core.site import (
    WEEKDAYS,
    AuthMode,
    Card,
    Connector,
    DigitalInput,
    DisconnectedAuth,
    Meter,
    MinCurrentPolicy,
    RemoteEnergyManagement,
    SheddingPriority,
    Site,
    SiteSettings,
    Station,
    Tou,
    TouPeriod,
    TouSlot,
    Transport,
    Wiring,
    Zone,
    ZoneMode,
)
from edgectl.sitefile import export_site, load_site, load_site_file
from edgectl.stationmodels import catalogue

HERE = Path(__file__).parent
EXAMPLE = HERE.parents[1] / "config" / "site.example.toml"


def assert_round_trip(site: Site) -> None:
    text = export_site(site)
    tomllib.loads(text)  # valid TOML on its own
    again = load_site(text, "exported.toml")
    assert again == site
    assert export_site(again) == text


def test_example_and_spec_round_trip() -> None:
    assert_round_trip(load_site_file(EXAMPLE))
    assert_round_trip(load_site_file(HERE / "spec_site.toml"))
    assert_round_trip(Site())


def test_export_layout_reads_like_the_spec() -> None:
    text = export_site(load_site_file(HERE / "spec_site.toml"))
    assert '[[zones]]\nid = "main"\n' in text
    assert '  { id = 2, wiring = "MONO2", max_current = 32, socket = "T2" },\n' in text
    assert 'slots = [["08:00", "12:00"], ["14:00", "19:30"]]\n' in text
    assert "tou =" not in text  # a zone's default tou = true is not written


def test_awkward_values_survive() -> None:
    site = Site(
        settings=SiteSettings(name='Quote " back\\slash\nnewline \u00e9\u4e2d', timezone="America/New_York"),
        zones=(Zone("z-1.a", "Zone \t tab", 40, tou_enabled=False, auth_mode=AuthMode.DISABLED),),
        stations=(
            Station(
                "ID_ü",
                "naïve",
                "generic_ac",
                "z-1.a",
                (Connector(4, Wiring.MONO3, 16, "TE"),),
                password="p=w'd\"",
                serial="SN 1",
            ),
        ),
        cards=(
            Card(
                "abc",
                comment="#not a comment",
                registered=date(2026, 2, 1),
                last_seen=datetime(2026, 2, 1, 12, 30, 15, 123456, tzinfo=UTC),
                valid_from=datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
                valid_to=datetime(2027, 1, 1, tzinfo=UTC),
            ),
        ),
        tou=Tou(enabled=False, periods=(TouPeriod("night", 0, ("sun",), (TouSlot(time(22), time(6)),), False),)),
    )
    assert_round_trip(site)


# ------------------------------------------------------------ generated sites

_names = st.text(min_size=1, max_size=50).filter(lambda s: s.strip() != "")
_ids = st.from_regex(r"[A-Za-z0-9_.\-]{1,8}", fullmatch=True)
_offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
_moments = st.builds(
    lambda d, off: d.replace(tzinfo=off),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),  # noqa: DTZ001 (naive bounds)
    _offsets,
)
MODELS = catalogue()


@st.composite
def sites(draw: st.DrawFn) -> Site:
    # Zones: a forest at most 3 levels deep, each max <= its parent's.
    zones: list[Zone] = []
    meters: list[Meter] = []
    depth: dict[str, int] = {}
    for i in range(draw(st.integers(0, 6))):
        zid = f"z{i}{draw(_ids)}"
        candidates = [z for z in zones if depth[z.id] < 3]
        parent = draw(st.none() | st.sampled_from(candidates)) if candidates else None
        max_a = draw(st.integers(1, parent.max_current_a if parent else 630))
        dynamic = draw(st.booleans())
        meter = None
        if dynamic:
            meter = f"m{i}{draw(_ids)}"
            meters.append(draw(_meter(meter, len(meters), reporting=False)))
        zones.append(
            Zone(
                zid,
                draw(_names),
                max_a,
                ZoneMode.DYNAMIC if dynamic else ZoneMode.STATIC,
                parent.id if parent else None,
                meter,
                draw(st.integers(0, max_a)) if dynamic else 0,
                draw(st.none() | st.sampled_from(AuthMode)),
                draw(st.booleans()),
            )
        )
        depth[zid] = depth[parent.id] + 1 if parent else 1
    for j in range(draw(st.integers(0, 2))):
        meters.append(draw(_meter(f"r{j}{draw(_ids)}", len(meters), reporting=True)))
    zone_ids = [z.id for z in zones]
    leaves = [z.id for z in zones if not any(c.parent == z.id for c in zones)]

    stations: list[Station] = []
    if leaves:
        for k in range(draw(st.integers(0, 5))):
            model = draw(st.sampled_from(sorted(MODELS)))
            n = draw(st.integers(1, MODELS[model].max_connectors))
            conn_ids = draw(st.lists(st.integers(1, 99), min_size=n, max_size=n, unique=True))
            connectors = tuple(
                Connector(
                    cid,
                    draw(st.sampled_from(Wiring)),
                    draw(st.integers(1, 80)),
                    draw(st.sampled_from(("T2", "T2S", "TE", "T2/TE", "T1", "T3", "CCS", "CHAdeMO"))),
                )
                for cid in conn_ids
            )
            stations.append(
                Station(
                    f"S{k}{draw(_ids)}",
                    draw(_names),
                    model,
                    draw(st.sampled_from(leaves)),
                    connectors,
                    draw(st.booleans()),
                    draw(st.none() | st.sampled_from(AuthMode)),
                    draw(st.sampled_from(DisconnectedAuth)),
                    draw(st.text(max_size=20)),
                    draw(st.none() | _names),
                )
            )

    zone_lists = st.lists(st.sampled_from(zone_ids), min_size=1, unique=True).map(tuple) if zone_ids else st.just(None)
    cards: list[Card] = []
    for c in range(draw(st.integers(0, 4))):
        window = draw(st.none() | st.tuples(_moments, st.integers(1, 10**9)))
        cards.append(
            Card(
                f"C{c}{draw(_ids)}"[:20],
                draw(st.booleans()),
                draw(st.booleans()),
                draw(st.text(max_size=50)),
                draw(st.none() | zone_lists),
                draw(st.none() | st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1))),
                draw(st.none() | _moments),
                window[0] if window else None,
                window[0] + timedelta(seconds=window[1]) if window else None,
            )
        )

    periods: list[TouPeriod] = []
    slots_left = 20
    for p in range(draw(st.integers(0, 5))):
        n_slots = draw(st.integers(1, max(1, min(4, slots_left))))
        if slots_left < n_slots:
            break
        slots_left -= n_slots
        hhmm = st.builds(time, st.integers(0, 23), st.integers(0, 59))
        periods.append(
            TouPeriod(
                f"p{p}{draw(_names)}"[:50],
                draw(st.integers(0, 100)),
                tuple(draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, unique=True))),
                tuple(TouSlot(draw(hhmm), draw(hhmm)) for _ in range(n_slots)),
                draw(st.booleans()),
                draw(st.none() | zone_lists),
            )
        )
    tou = Tou(draw(st.booleans()), tuple(periods))

    channels = draw(st.lists(st.sampled_from((1, 2, 3)), unique=True))
    inputs = tuple(DigitalInput(ch, draw(_names), draw(st.booleans()), draw(st.integers(0, 100))) for ch in channels)

    remote_enabled = draw(st.booleans())
    settings_ = SiteSettings(
        draw(_names),
        draw(st.sampled_from(("UTC", "Europe/Paris", "America/Sao_Paulo", "Asia/Kolkata"))),
        draw(st.sampled_from(MinCurrentPolicy)),
        draw(st.sampled_from(SheddingPriority)),
        draw(st.integers(1, 1440)),
        draw(st.booleans()),
        draw(st.booleans()),
        RemoteEnergyManagement(
            remote_enabled,
            draw(_ids) if remote_enabled else draw(st.none() | _ids),
            draw(st.integers(1, 3600)),
            draw(st.integers(1, 3600)),
            draw(st.booleans()),
        ),
    )
    return Site(settings_, tuple(zones), tuple(stations), tuple(meters), tuple(cards), tou, inputs)


def _meter(meter_id: str, index: int, *, reporting: bool) -> st.SearchStrategy[Meter]:
    tcp = st.builds(
        lambda name, port: Meter(
            meter_id, "pm5320", Transport.TCP, name, "127.0.0.1", port, index + 1, reporting=reporting
        ),
        st.text(max_size=50),
        st.integers(1, 65535),
    )
    rtu = st.builds(
        lambda model, baud, parity, stop: Meter(
            meter_id, model, Transport.RTU, "", None, 502, index + 1, "/dev/ttyUSB0", baud, parity, stop, reporting
        ),
        st.sampled_from(("iem3x5x", "powertag", "nsx", "nsx_legacy", "mtz", "custom:my meter")),
        st.sampled_from((9600, 19200, 38400)),
        st.sampled_from("NEO"),
        st.sampled_from((1, 2)),
    )
    return tcp | rtu


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sites())
def test_generated_sites_round_trip(site: Site) -> None:
    assert_round_trip(site)
