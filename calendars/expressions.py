"""Database expressions the book needs for speed."""

from django.db import NotSupportedError
from django.db.models import Field, Func


class EpochSeconds(Func):
    """A datetime column as seconds since 1970 (UTC), computed by the database.

    Availability reads thousands of spans; letting the database hand back numbers skips
    building a timezone-aware datetime per value in Python. Whole seconds on SQLite.
    """

    # A plain Field: the database already returns floats, so no per-row converter runs.
    output_field = Field()

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError(f"EpochSeconds is not implemented for {connection.vendor}.")

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)::float8")

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler, connection, template="CAST(strftime('%%%%s', %(expressions)s) AS REAL)"
        )
