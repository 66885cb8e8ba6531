"""A firm's contact person, e-mail and phone: optional import columns, validated.

``contactpersoon``/``contact_person``, ``email``/``e-mail`` and ``telefoon``/``phone`` let a
coordinator invite an accepted group to its first meeting.  E-mail syntax is checked by
``email-validator`` (no DNS lookup: kring works offline) and normalised (the domain in
lower case); phone numbers by ``phonenumbers`` with the Netherlands as the default region,
stored as people write them (``050 123 4567``; foreign numbers ``+32 2 123 45 67``).
"""

from __future__ import annotations

from collections.abc import Callable

import phonenumbers
from email_validator import EmailNotValidError, validate_email

CONTACT_COLUMNS = ("contact_person", "email", "phone")


def normal_email(raw: str) -> str | None:
    """The normalised address, or ``None`` when ``raw`` is not a valid e-mail address."""
    try:
        return validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def normal_phone(raw: str) -> str | None:
    """The number as people write it, or ``None`` when it is not a valid number.

    Dutch numbers in national form (``050 123 4567``: a leading ``+`` would read as a
    formula in a spreadsheet), others in international form (``+32 2 123 45 67``).
    """
    try:
        number = phonenumbers.parse(raw, "NL")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    dutch = phonenumbers.region_code_for_number(number) == "NL"
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if dutch
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


def parse_contact(
    values: dict[str, str], fail: Callable[..., None]
) -> tuple[str | None, str | None, str | None]:
    """``(contact_person, email, phone)`` from a row's cells; bad values reported by ``fail``.

    Parameters
    ----------
    values
        The row's cells by canonical column name (absent or empty: not given).
    fail
        Called with ``(column, catalogue key, value=...)`` for each invalid value.

    Returns
    -------
    tuple
        The normalised values (``None`` where not given or invalid).
    """
    person = values.get("contact_person", "").strip() or None
    email = values.get("email", "").strip() or None
    phone = values.get("phone", "").strip() or None
    if email is not None:
        normal = normal_email(email)
        if normal is None:
            fail("email", "import.value.email", value=repr(email))
        email = normal
    if phone is not None:
        normal = normal_phone(phone)
        if normal is None:
            fail("phone", "import.value.phone", value=repr(phone))
        phone = normal
    return person, email, phone
