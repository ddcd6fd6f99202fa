"""PostgreSQL refuses any UPDATE or DELETE of an audit row, whoever asks (the app, the shell, psql).

TRUNCATE stays possible for the database owner: it is what test runs and a restore
with --clean use, and no path of the application issues it. On other databases
(SQLite) this migration does nothing; the app itself never changes a row.
"""

from django.db import migrations

FORWARD = [
    """CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
           MESSAGE = 'audit_auditevent is append-only: ' || TG_OP || ' refused';
       END $$""",
    """CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_auditevent
       FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()""",
]
BACKWARD = [
    "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent",
    "DROP FUNCTION IF EXISTS audit_event_append_only()",
]


def run(statements):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return operation


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(run(FORWARD), run(BACKWARD))]
