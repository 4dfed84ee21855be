"""ISO 4217 currency codes, shared by the suppliers' catalog and purchase orders."""

import pycountry

from common.errors import InvalidInput

# ISO 4217 codes that name no money: "no currency" and the testing code.
NON_CURRENCIES = frozenset({"XXX", "XTS"})
# The ISO 4217 codes a purchase order or a catalog entry may be in (upper case, as stored).
CURRENCY_CODES = tuple(
    sorted(c.alpha_3 for c in pycountry.currencies if c.alpha_3 not in NON_CURRENCIES)
)


def clean_currency(value, *, field="currency"):
    """An ISO 4217 currency code, upper-cased; ``InvalidInput`` naming ``field`` otherwise."""
    code = value.strip().upper() if isinstance(value, str) else ""
    if (
        len(code) != 3
        or not code.isalpha()
        or code in NON_CURRENCIES
        or pycountry.currencies.get(alpha_3=code) is None
    ):
        raise InvalidInput(f"'{value}' is not an ISO 4217 currency code.", field=field)
    return code
