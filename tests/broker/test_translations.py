"""The English translation: complete, compiled, and used by the pages when the visitor chooses English.

CI has no gettext tools, so the .po file is read with the small parser below, and the compiled
.mo file is checked against it with Python's own gettext reader.
"""

import ast
import gettext
import html
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tests.factories import (
    CertificationFactory,
    FrameworkFactory,
    LotFactory,
    OfferFactory,
    ProviderFactory,
    QualificationFactory,
    ReferencingFactory,
)

MESSAGES = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES"
PO_FILE = MESSAGES / "django.po"
MO_FILE = MESSAGES / "django.mo"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%|%[sd]|\{\w*\}")
HTML_TAG = re.compile(r"</?(?:a|abbr|br|code|em|p|span|strong)\b[^>]*>")
KEYWORD = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")$")


def parse_po(path: Path) -> list[dict]:
    """The entries of a .po file: msgctxt, msgid, msgid_plural, msgstr {form: text}, flags, line.

    Entries are blocks separated by blank lines, as gettext and makemessages write them; obsolete
    entries (#~) are skipped; the header is the entry whose msgid is empty.
    """
    entries = []
    lines = path.read_text(encoding="utf-8").splitlines()
    block_start = 0
    for number, raw in enumerate([*lines, ""], start=1):
        if raw.strip():
            continue
        block = [(line_number, line.strip()) for line_number, line in
                 enumerate(lines[block_start:number - 1], start=block_start + 1)]
        block_start = number
        if block and not any(line.startswith("#~") for _n, line in block):
            entries.append(parse_po_entry(path, block))
    return entries


def parse_po_entry(path: Path, block: list[tuple[int, str]]) -> dict:
    entry = {"msgctxt": None, "msgid": None, "msgid_plural": None, "msgstr": {}, "flags": [], "line": block[0][0]}
    field = None
    for number, line in block:
        if line.startswith("#,"):
            entry["flags"] += [flag.strip() for flag in line[2:].split(",") if flag.strip()]
        elif line.startswith("#"):
            continue
        elif match := KEYWORD.match(line):
            keyword, form, literal = match.groups()
            field = (keyword, None) if not keyword.startswith("msgstr") else ("msgstr", int(form or 0))
            if field[1] is None:
                entry[keyword] = ast.literal_eval(literal)
            else:
                entry["msgstr"][field[1]] = ast.literal_eval(literal)
        elif line.startswith('"') and field is not None:
            if field[1] is None:
                entry[field[0]] += ast.literal_eval(line)
            else:
                entry["msgstr"][field[1]] += ast.literal_eval(line)
        else:
            raise AssertionError(f"{path.name}:{number}: line not understood: {line!r}")
    assert entry["msgid"] is not None, f"{path.name}:{entry['line']}: entry without msgid"
    return entry


@pytest.fixture(scope="module")
def po_entries() -> list[dict]:
    return parse_po(PO_FILE)


def messages(po_entries) -> list[dict]:
    return [entry for entry in po_entries if entry["msgid"]]


def test_po_file_has_no_untranslated_entry(po_entries):
    """Every message of the English .po file has a translation, in every plural form."""
    assert len(messages(po_entries)) > 500
    missing = [
        f"line {entry['line']}: {entry['msgid']!r}"
        for entry in messages(po_entries)
        if not entry["msgstr"]
        or not all(entry["msgstr"].values())
        or (entry["msgid_plural"] is not None and sorted(entry["msgstr"]) != [0, 1])
    ]
    assert missing == []


def test_po_file_has_no_fuzzy_entry(po_entries):
    """No entry, header included, is flagged fuzzy: gettext would ignore it."""
    fuzzy = [f"line {entry['line']}: {entry['msgid']!r}" for entry in po_entries if "fuzzy" in entry["flags"]]
    assert fuzzy == []


def test_translations_keep_placeholders_and_markup(po_entries):
    """Each translation keeps the message's placeholders, %% signs and HTML tags."""
    problems = []
    for entry in messages(po_entries):
        sources = [entry["msgid"]] + ([entry["msgid_plural"]] if entry["msgid_plural"] is not None else [])
        for form, translated in entry["msgstr"].items():
            source = sources[min(form, len(sources) - 1)]
            if sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(translated)):
                problems.append(f"line {entry['line']}: placeholders differ in {translated!r}")
            if sorted(HTML_TAG.findall(source)) != sorted(HTML_TAG.findall(translated)):
                problems.append(f"line {entry['line']}: HTML differs in {translated!r}")
    assert problems == []


def test_po_header_declares_english_and_its_plural_rule(po_entries):
    """The header says English, UTF-8 and the two-form plural rule the translations follow."""
    header = next(entry for entry in po_entries if entry["msgid"] == "")["msgstr"][0]
    assert "Language: en\n" in header
    assert "charset=UTF-8" in header
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header


def test_mo_file_is_compiled_from_the_current_po(po_entries):
    """The committed .mo holds exactly the .po's translations: rerun compilemessages after editing the .po."""
    assert MO_FILE.exists(), "run: manage.py compilemessages -l en --ignore=.venv"
    with MO_FILE.open("rb") as compiled:
        catalog = gettext.GNUTranslations(compiled)._catalog
    expected = {}
    for entry in messages(po_entries):
        key = entry["msgid"] if entry["msgctxt"] is None else f"{entry['msgctxt']}\x04{entry['msgid']}"
        if entry["msgid_plural"] is None:
            expected[key] = entry["msgstr"][0]
        else:
            expected.update({(key, form): text for form, text in entry["msgstr"].items()})
    compiled_messages = {key: text for key, text in catalog.items() if key != ""}
    assert compiled_messages == expected


def test_django_serves_the_english_catalogue():
    """Django's gettext finds the project's English translations, singular and plural."""
    with translation.override("en"):
        assert _("Accord-cadre") == "Framework agreement"
        assert _("Bon de commande") == "Purchase order"
        assert _("Données sensibles") == "Sensitive data"
        assert _("Diffusion Restreinte") == "Diffusion Restreinte"
        assert _("Valideur (responsable budgétaire)") == "Approver (budget holder)"
        assert ngettext("%(counter)s offre trouvée", "%(counter)s offres trouvées", 1) % {"counter": 1} == (
            "1 offer found"
        )
        assert ngettext("%(counter)s offre trouvée", "%(counter)s offres trouvées", 3) % {"counter": 3} == (
            "3 offers found"
        )
    with translation.override("fr"):
        assert _("Accord-cadre") == "Accord-cadre"


@pytest.fixture
def english(client):
    """A browser that chose English with the header's switch (the language cookie)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def offer(db):
    """A qualified, HDS-certified offer listed in a lot of a framework agreement in force."""
    provider = ProviderFactory(name="Nimbus", slug="nimbus")
    offer = OfferFactory(provider=provider, name="Vault", slug="vault", category="Storage",
                         description="Object storage", price_unit="per TB")
    QualificationFactory(offer=offer)
    CertificationFactory(offer=offer, kind="hds")
    lot = LotFactory(framework=FrameworkFactory(reference="AC-2026", slug="ac-2026", title="Public cloud"),
                     number=1, title="Infrastructure")
    ReferencingFactory(lot=lot, offer=offer)
    return offer


def page_text(response) -> str:
    """The page as a reader sees its characters (entities decoded)."""
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def assert_english(text: str, *, english: list[str], french: list[str]):
    assert '<html lang="en"' in text
    missing = [phrase for phrase in english if phrase not in text]
    leftover = [phrase for phrase in french if phrase in text]
    assert (missing, leftover) == ([], [])


# The frame of every page: header, navigation and footer.
FRAME_EN = ["Sign in", "Main menu", "Framework agreements", "“cloud au centre” (cloud first) doctrine",
            "Accessibility: partially compliant"]
FRAME_FR = ["Se connecter", "Menu principal", "Accords-cadres", "Pied de page", "Accessibilité",
            "doctrine « cloud au centre »", "Le catalogue cloud de l'État"]


@pytest.mark.django_db
def test_home_page_in_english(english, offer):
    """The home page speaks English, plural key figures included, once English is chosen."""
    text = page_text(english.get("/"))
    assert_english(
        text,
        english=[*FRAME_EN, "Find a cloud offer that can host your data", "The catalogue in figures",
                 "published offer", "Which offers for which data?", "Sensitive data",
                 "Health data", "Diffusion Restreinte"],
        french=[*FRAME_FR, "Trouvez une offre cloud", "Le catalogue en chiffres", "offre publiée",
                "Quelles offres pour quelles données", "Données sensibles", "Données de santé"],
    )


@pytest.mark.django_db
def test_catalogue_page_in_english(english, offer):
    """The search page's heading, facets, sort options and result count are English."""
    OfferFactory(name="Mail", slug="mail", provider=offer.provider)
    text = page_text(english.get("/catalogue/"))
    assert_english(
        text,
        english=[*FRAME_EN, "Catalogue of cloud offers", "2 offers found", "Service model",
                 "SecNumCloud qualification", "Eligible for data", "Apply the filters", "Sort by"],
        french=[*FRAME_FR, "Catalogue des offres cloud", "offres trouvées", "Modèle de service",
                "Qualification SecNumCloud", "Éligible pour des données", "Appliquer les filtres", "Trier par"],
    )


@pytest.mark.django_db
def test_offer_page_in_english(english, offer):
    """The offer page's qualification, eligibility verdicts, price and listing blocks are English."""
    text = page_text(english.get(offer.get_absolute_url()))
    assert_english(
        text,
        english=[*FRAME_EN, "Vault", "SecNumCloud qualification", "ANSSI decision number",
                 "Qualification history", "Eligibility by data sensitivity", "Eligible", "List price",
                 "excl. VAT", "Data hosting", "HDS (health data hosting)", "Provider sovereignty"],
        french=[*FRAME_FR, "Qualification SecNumCloud", "Numéro de décision ANSSI", "Historique de la qualification",
                "Éligibilité par sensibilité", "Non éligible", "Prix catalogue", "Hébergement des données",
                "hébergeur de données de santé", "Souveraineté du fournisseur"],
    )


@pytest.mark.django_db
def test_framework_list_in_english(english, offer):
    """The framework agreements page, its states and its invitation to sign in are English."""
    text = page_text(english.get("/cadres/"))
    assert_english(
        text,
        english=[*FRAME_EN, "AC-2026", "Public bodies order the listed offers by purchase order",
                 "Central purchasing body: UGAP", "Contract holder: Crayon France", "In force", "Maximum amount",
                 "Sign in to see the negotiated discounts"],
        french=[*FRAME_FR, "Les administrations commandent", "Centrale d'achat", "Titulaire", "En vigueur",
                "Montant maximum", "Connectez-vous"],
    )


@pytest.mark.django_db
def test_french_stays_the_default(client, offer):
    """Without the language cookie the same page is still in French."""
    text = page_text(client.get("/cadres/"))
    assert '<html lang="fr"' in text
    assert "Accords-cadres" in text
    assert "Framework agreements" not in text
