"""Oxygen device text naming two devices gives the higher ASTCT support; high-flow, trach and mask phrases."""

from __future__ import annotations

import pytest
from knowledge_fixtures import shipped_kb

from cds_service.clinical.grading_hypoxia import _FIXED_LEVELS
from cds_service.domain.facts import O2Device
from cds_service.knowledge.build import O2_TEXT_RANK


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("BiPAP via full face mask", O2Device.bipap),
        ("CPAP via face mask", O2Device.cpap),
        ("face mask then CPAP", O2Device.cpap),
        ("Nasal cannula, high flow", O2Device.high_flow_nasal_cannula),
        ("high flow nasal cannula", O2Device.high_flow_nasal_cannula),
        ("HFNC", O2Device.high_flow_nasal_cannula),
        ("heated high flow 40 L/min", O2Device.high_flow_nasal_cannula),
        ("trach collar", O2Device.unknown),
        ("Tracheostomy collar 35%", O2Device.unknown),
        ("partial rebreather mask", O2Device.face_mask),
        ("room air via trach collar", O2Device.unknown),
        ("nasal cannula, weaning to room air", O2Device.nasal_cannula),
    ],
)
def test_device_text_naming_several_devices_gives_the_highest_astct_level(
    text: str, expected: O2Device
) -> None:
    assert shipped_kb().o2_device(None, None, text) is expected


def test_the_text_rank_orders_devices_as_the_hypoxia_grading_does() -> None:
    for device, level in _FIXED_LEVELS.items():
        assert O2_TEXT_RANK[device] == level, device
    assert O2_TEXT_RANK[O2Device.nasal_cannula] == 2
    assert O2_TEXT_RANK[O2Device.room_air] < O2_TEXT_RANK[O2Device.unknown] < O2_TEXT_RANK[O2Device.blow_by]
    assert set(O2_TEXT_RANK) == set(O2Device)
