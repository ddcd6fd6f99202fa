"""Countries Courtier knows: the EU member states and the usual non-EU seats and regions."""

from django.utils.translation import gettext_lazy as _

COUNTRY_CHOICES = [
    ("AT", _("Autriche")), ("BE", _("Belgique")), ("BG", _("Bulgarie")), ("HR", _("Croatie")),
    ("CY", _("Chypre")), ("CZ", _("Tchéquie")), ("DK", _("Danemark")), ("EE", _("Estonie")),
    ("FI", _("Finlande")), ("FR", _("France")), ("DE", _("Allemagne")), ("GR", _("Grèce")),
    ("HU", _("Hongrie")), ("IE", _("Irlande")), ("IT", _("Italie")), ("LV", _("Lettonie")),
    ("LT", _("Lituanie")), ("LU", _("Luxembourg")), ("MT", _("Malte")), ("NL", _("Pays-Bas")),
    ("PL", _("Pologne")), ("PT", _("Portugal")), ("RO", _("Roumanie")), ("SK", _("Slovaquie")),
    ("SI", _("Slovénie")), ("ES", _("Espagne")), ("SE", _("Suède")),
    ("CH", _("Suisse")), ("GB", _("Royaume-Uni")), ("NO", _("Norvège")), ("IS", _("Islande")),
    ("US", _("États-Unis")), ("CA", _("Canada")), ("CN", _("Chine")), ("IN", _("Inde")),
    ("JP", _("Japon")), ("SG", _("Singapour")), ("IL", _("Israël")), ("AU", _("Australie")),
]
COUNTRY_CODES = frozenset(code for code, _label in COUNTRY_CHOICES)
COUNTRY_NAMES = dict(COUNTRY_CHOICES)


def country_name(code: str) -> str:
    return str(COUNTRY_NAMES.get(code.upper(), code.upper()))
