"""Messages of marshmallow 4, webargs 8 and flask-smorest that can reach an API caller.

Never imported: this file only lists them for `pybabel extract` (babel.cfg covers
ledger/**.py), so they stay in messages.pot and survive `pybabel update`.
ledger.problems._translate_errors passes every per-field message through gettext(), so
these are translated when they appear verbatim. Messages with {placeholders} are formatted
by marshmallow before they reach gettext, so only brace-free texts (and the few formatted
texts that really occur, such as the pagination ranges) are listed.
The test tests/test_i18n.py checks that the library's current texts are all here.
"""


def N_(s):
    return s


# marshmallow.Schema
N_("Invalid input type.")
N_("Unknown field.")

# marshmallow.fields.Field and subclasses
N_("Missing data for required field.")
N_("Field may not be null.")
N_("Invalid value.")
N_("Invalid type.")
N_("Not a valid string.")
N_("Not a valid utf-8 string.")
N_("Not a valid number.")
N_("Not a valid integer.")
N_("Number too large.")
N_("Special numeric values (nan or infinity) are not permitted.")
N_("Not a valid boolean.")
N_("Not a valid date.")
N_("Not a valid datetime.")
N_("Not a valid time.")
N_("Not a valid period of time.")
N_("Not a valid list.")
N_("Not a valid tuple.")
N_("Not a valid mapping type.")
N_("Not a valid URL.")
N_("Not a valid email address.")
N_("Not a valid UUID.")
N_("Not a valid IP address.")
N_("Not a valid IPv4 address.")
N_("Not a valid IPv6 address.")
N_("Not a valid IP interface.")
N_("Not a valid IPv4 interface.")
N_("Not a valid IPv6 interface.")

# marshmallow.validate
N_("Invalid input.")
N_("String does not match expected pattern.")
# flask-smorest pagination: page >= 1, 1 <= page_size <= 100 (validate.Range, formatted)
N_("Must be greater than or equal to 1.")
N_("Must be greater than or equal to 1 and less than or equal to 100.")

# webargs
N_("Invalid JSON body.")
N_("Not a valid delimited list.")
N_("Not a valid delimited tuple.")
