"""Phone numbers in every format callers and CRMs use normalise to one E.164 value."""

import pytest

from apps.customers.services import email_normalize, phone_normalize


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+8613812345678",
        "0086 138 1234 5678",
        "008613812345678",
        "8613812345678",
        "86 138 1234 5678",
        "１３８１２３４５６７８",
        "+86 138 1234 5678 ext. 12",
    ],
)
def test_chinese_mobile_formats_give_one_e164_number(raw):
    assert phone_normalize(raw) == "+8613812345678"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("010-12345678", "+861012345678"),
        ("(010) 1234 5678", "+861012345678"),
        ("+86 10 1234 5678", "+861012345678"),
        ("021-87654321", "+862187654321"),
        ("0755-12345678", "+8675512345678"),
    ],
)
def test_landlines_with_area_codes_keep_the_area_code(raw, expected):
    assert phone_normalize(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+1 415 555 0101", "+14155550101"),
        ("001 415 555 0101", "+14155550101"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_international_numbers_keep_their_country(raw, expected):
    assert phone_normalize(raw) == expected


def test_the_default_region_decides_numbers_without_a_country_code():
    assert phone_normalize("(415) 555-0101", default_region="US") == "+14155550101"
    # Read as a Chinese number with area code 0415 under the default region CN.
    assert phone_normalize("(415) 555-0101") == "+864155550101"


def test_the_default_region_comes_from_settings(settings):
    settings.CUSTOMERS_DEFAULT_PHONE_REGION = "US"

    assert phone_normalize("415 555 0101") == "+14155550101"


@pytest.mark.parametrize(
    "raw", ["", None, "anonymous", "1001", "95588", "12345", "12345678", "sip:1001@pbx", "+86"]
)
def test_withheld_extensions_and_short_codes_are_not_numbers(raw):
    assert phone_normalize(raw) is None


def test_email_addresses_are_trimmed_and_lower_case():
    assert email_normalize("  Li.Wei@Example.COM ") == "li.wei@example.com"
    assert email_normalize("not an address") is None
