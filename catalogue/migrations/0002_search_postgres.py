"""PostgreSQL full-text search: the `french_unaccent` configuration and a GIN index.

On other databases (SQLite) this migration does nothing: the search falls back
to matching the normalised `search_document` (see catalogue/search.py).
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    """DO $$ BEGIN
         IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'french_unaccent') THEN
           CREATE TEXT SEARCH CONFIGURATION french_unaccent (COPY = french);
           ALTER TEXT SEARCH CONFIGURATION french_unaccent
             ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem;
         END IF;
       END $$""",
    """CREATE INDEX IF NOT EXISTS offer_search_gin ON catalogue_offer
       USING gin (to_tsvector('french_unaccent'::regconfig, COALESCE(search_document, '')))""",
]
BACKWARD = [
    "DROP INDEX IF EXISTS offer_search_gin",
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS french_unaccent",
]


def run(statements):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return operation


class Migration(migrations.Migration):
    dependencies = [("catalogue", "0001_initial")]

    operations = [migrations.RunPython(run(FORWARD), run(BACKWARD))]
