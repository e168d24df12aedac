"""Validation of УПД XML against ФНС's schema (a copy in fixtures/, as ФНС publishes it)."""

from functools import cache
from pathlib import Path

from lxml import etree

SCHEMA = Path(__file__).parent / "fixtures" / "ON_NSCHFDOPPR_1_997_01_05_03_05.xsd"


@cache
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA)))


def assert_valid_upd(xml: bytes) -> etree._Element:
    """Parse the file's bytes as declared (windows-1251) and validate; the tree, or fail."""
    assert xml.startswith(b"<?xml") and b"windows-1251" in xml.split(b"?>", 1)[0]
    document = etree.fromstring(xml)
    schema = _schema()
    assert schema.validate(document), "\n".join(str(error) for error in schema.error_log)
    return document
