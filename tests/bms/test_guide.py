"""The settings each BMS needs have one source: the docs show exactly what hub.bms.guide makes of them."""

from pathlib import Path

import pytest

from hub.bms.guide import GUIDES, Values, markdown
from hub.bms.model import BmsType

DOCS = Path(__file__).resolve().parents[2] / "docs" / "bms-connections.md"


@pytest.mark.parametrize("bms_type", list(BmsType))
def test_guide__its_section_in_the_docs_is_the_generated_text(bms_type: BmsType):
    expected = markdown(GUIDES[bms_type])
    assert expected in DOCS.read_text(), f"update docs/bms-connections.md with:\n{expected}"


def test_guide__a_connection_s_values_fill_every_placeholder():
    values = Values("bms-tower", "bms-tower", "bms/tower/readings", "`ws://hub:8080/mqtt`")
    text = markdown(GUIDES[BmsType.ECOSTRUXURE], values)
    assert "`bms/tower/readings`" in text
    assert "| broker address / URL | `ws://hub:8080/mqtt` |" in text
    assert "$" not in text
    assert "{id}" not in text
