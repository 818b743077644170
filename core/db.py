"""Database helpers shared by the apps."""

from contextlib import contextmanager

from django.contrib.postgres import operations as postgres_operations
from django.core.exceptions import EmptyResultSet
from django.core.validators import MaxLengthValidator
from django.db import connection, models
from django.db.migrations.operations import AddIndex
from django.db.models import Field, Lookup
from django.utils.functional import cached_property


@contextmanager
def bound_cursor():
    """A PostgreSQL cursor that sends parameters apart from the SQL (server-side binding).

    Django's psycopg cursors bind on the client: every parameter is quoted into the SQL text in Python, which for
    the array parameters of the bulk ingest and scoring statements cost about 30 µs per mention (docs/benchmarks.md).
    Runs inside the current transaction; Django's query logging does not see these statements.
    """
    import psycopg

    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        yield cursor


@Field.register_lookup
class AnyOf(Lookup):
    """`field__any=[…]`: the field equals one of the values; for the batches of ingest and scoring.

    On PostgreSQL `field = ANY(%s)` with the values as one array parameter; an `__in` list of a thousand
    placeholders cost ten times the query itself, in Django building and quoting each one (docs/benchmarks.md,
    ingest). Elsewhere an IN list. Like `__in`, None matches nothing and an empty list no row. It takes a list of
    values only (for a subquery use `__in`), and works on a model's own fields, not through a foreign key
    (`pk__any`, `handle__any`; not `account__any`). Registered when this module is imported (core.apps does).
    """

    lookup_name = "any"
    prepare_rhs = False

    def process_rhs(self, compiler, connection):
        if not isinstance(self.rhs, list | tuple | set | frozenset):
            raise TypeError(f"__any takes a list of values, not {type(self.rhs).__name__}; for a subquery use __in.")
        field = self.lhs.output_field
        values = [field.get_db_prep_value(value, connection, prepared=False) for value in self.rhs if value is not None]
        if connection.vendor == "postgresql":
            return "= ANY(%s)", [values]
        if not values:
            raise EmptyResultSet
        return f"IN ({', '.join(['%s'] * len(values))})", values

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} {rhs}", [*lhs_params, *rhs_params]


class AddIndexConcurrently(postgres_operations.AddIndexConcurrently):
    """Django's AddIndexConcurrently (`CREATE INDEX CONCURRENTLY`, in a migration with `atomic = False`) on
    PostgreSQL, and a plain AddIndex on the embedded SQLite default, where Django's refuses to run. For the tables
    that take writes during an incident (mentions): a plain build blocks every insert and update until it ends."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class BoundedTextField(models.TextField):
    """Free text with a maximum length, enforced wherever it is written: model validation (full_clean), model forms
    (max_length, and the textarea's maxlength) and DRF's model serializers (max_length). The limits are listed in
    docs/api.md; an unbounded text once let one 96 KB draft slow every list of messages."""

    def __init__(self, *args, max_length: int, **kwargs):
        super().__init__(*args, max_length=max_length, **kwargs)

    @cached_property
    def validators(self):
        return [*super().validators, MaxLengthValidator(self.max_length)]
