"""Rows and model instances from hand-written ``SELECT`` statements, for the reads every request
makes, whose SQL the ORM would compile anew each time (at a cost above the database's answer);
and the parameters of hand-written ``INSERT`` statements, for the writes.

``Columns`` names model fields as one select list and converts the values read as the ORM
converts them (SQLite's text UUIDs and naive date-times; PostgreSQL's need nothing);
``ModelColumns`` also builds the instances, with ``Model.from_db`` as ``QuerySet.raw()`` does.
``FieldValues`` converts the values of a row to write as the ORM's ``INSERT`` does.
"""

from django.conf import settings
from django.db import connection, connections
from psycopg.types.datetime import TimestamptzLoader
from psycopg.types.string import TextLoader


def db_value(model, name, value, *, using="default"):
    """``value`` of ``model``'s field ``name`` as the database takes it as a parameter of a
    written-out statement (a UUID is text on SQLite)."""
    return model._meta.get_field(name).get_db_prep_value(value, connections[using])


def batches(rows, *, params_per_row, using="default"):
    """``rows`` in lists of as many as one statement takes parameters for, at
    ``params_per_row`` each (all of them on PostgreSQL; SQLite takes 999)."""
    rows = list(rows)
    size = len(rows) or 1
    limit = connections[using].features.max_query_params
    if limit:
        size = min(size, limit // params_per_row)
    return [rows[start : start + size] for start in range(0, len(rows), size)]


class FieldValues:
    """The fields ``names`` of ``model`` (names or attnames: ``stock_id`` for the foreign key
    ``stock``), whose values a written-out statement takes as parameters, in that order."""

    def __init__(self, model, names):
        self.names = tuple(names)
        self.fields = [model._meta.get_field(name) for name in self.names]

    def params(self, rows, *, using="default"):
        """The values of ``rows`` (tuples, one value per field), one row after the other, as
        the ORM's ``INSERT`` passes them (``Field.get_db_prep_save``: a UUID is text on SQLite,
        a JSON value ``jsonb`` on PostgreSQL)."""
        connection = connections[using]
        return [
            field.get_db_prep_save(value, connection)
            for row in rows
            for field, value in zip(self.fields, row, strict=True)
        ]

    def batches(self, rows, *, using="default"):
        """``(count, params)`` for each batch of ``rows``: as many rows a statement as the
        database takes parameters for (all of them on PostgreSQL; SQLite takes 999)."""
        for batch in batches(rows, params_per_row=len(self.fields), using=using):
            yield len(batch), self.params(batch, using=using)


class Columns:
    """``fields`` (model fields, of one model or of joined ones), in order; ``None`` for a
    computed column, read as the database returns it."""

    def __init__(self, fields):
        self.fields = list(fields)
        self._converters_by_alias = {}

    @property
    def sql(self):
        return ", ".join(
            f'"{field.model._meta.db_table}"."{field.column}"' for field in self.fields
        )

    def rows(self, sql, params, *, using="default"):
        """The rows ``sql`` selects (these columns, in order), converted (``convert``)."""
        with connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            return self.convert(cursor.fetchall(), using=using)

    def convert(self, rows, *, using="default"):
        """``rows`` (tuples of these columns' values as the database returns them) as the ORM
        reads them."""
        converters = self._converters(using)
        if not converters:
            return rows
        connection = connections[using]
        converted = []
        for row in rows:
            values = list(row)
            for index, column, functions in converters:
                for convert in functions:
                    values[index] = convert(values[index], column, connection)
            converted.append(tuple(values))
        return converted

    def _converters(self, using):
        """``(index, column, converters)`` of the columns the database ``using`` converts."""
        if using not in self._converters_by_alias:
            connection = connections[using]
            found = []
            for index, field in enumerate(self.fields):
                if field is None:
                    continue
                column = field.get_col(field.model._meta.db_table)
                functions = [
                    *connection.ops.get_db_converters(column),
                    *column.get_db_converters(connection),
                ]
                if functions:
                    found.append((index, column, functions))
            self._converters_by_alias[using] = found
        return self._converters_by_alias[using]


class ModelColumns(Columns):
    """The concrete fields of ``models``, one model after the other."""

    def __init__(self, *models):
        self.models = models
        self._names = [[field.attname for field in model._meta.concrete_fields] for model in models]
        super().__init__(field for model in models for field in model._meta.concrete_fields)

    def read(self, sql, params, *, using="default"):
        """The instances of one model that ``sql`` selects (its columns, in order)."""
        if len(self.models) != 1:
            raise TypeError("read() selects the columns of one model.")
        with connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return [instance for row in rows for instance in self.instances(row, using=using)]

    def instances(self, row, *, using="default"):
        """One instance of each model from ``row`` (their columns, in order)."""
        [values] = self.convert([row], using=using)
        found, start = [], 0
        for model, names in zip(self.models, self._names, strict=True):
            found.append(model.from_db(using, names, values[start : start + len(names)]))
            start += len(names)
        return found


class PageRows:
    """A list's rows read with hand-written SQL (the API's busiest lists, whose statements the
    ORM would compile anew on every request), as Django's ``Paginator`` takes an object list:
    ``count()`` is one ``COUNT(*)``, a slice one page (``LIMIT %s OFFSET %s``).

    A subclass sets ``model`` (what the filterset filters) and ``columns`` (what a row holds, a
    ``Columns``), and in ``__init__`` the statements and their parameters: ``count_sql``, and
    ``page_sql(counted)``, a page whose rows start with the count of all the rows when
    ``counted``. ``filter(**values)`` returns the rows a filterset's cleaned values select."""

    model = None
    columns = None

    def __init__(self, *, params, count_sql, page_sql):
        self._params = params
        self._count_sql = count_sql
        self._page_sql = page_sql

    def filter(self, **values):
        return type(self)(**values)

    def count(self):
        with connection.cursor() as cursor:
            cursor.execute(self._count_sql, self._params)
            return cursor.fetchone()[0]

    def __getitem__(self, page):
        if not isinstance(page, slice) or page.step is not None:
            raise TypeError(f"{type(self).__name__} are read a page (a slice) at a time.")
        start = page.start or 0
        # An empty list's page: nothing to read (as a queryset's empty slice).
        if page.stop <= start:
            return []
        return self.columns.convert(self._read(start, page.stop, counted=False))

    def counted_page(self, start, stop):
        """``(count, rows)`` of the slice ``[start:stop]``, in one statement; the count is
        ``None`` when the slice is past the end (no row carries it)."""
        rows = self._read(start, stop, counted=True)
        converted = self.columns.convert([row[1:] for row in rows])
        return (rows[0][0] if rows else None), converted

    def _read(self, start, stop, *, counted):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                _load_for_presenters(cursor)
            cursor.execute(self._page_sql(counted), [*self._params, stop - start, start])
            return cursor.fetchall()


def _load_for_presenters(cursor):
    """Have ``cursor`` (PostgreSQL) load a page's rows as the presenters and the ETag use them:
    ids as their text (psycopg would make ``UUID``s, 200 on a page of 50 levels, and the
    presenters text again), and date-times with psycopg's own loader, compiled (Django's wraps
    the pure-Python one to set the tzinfo to UTC with ``USE_TZ``, which the session's
    ``TimeZone`` gives them already). A fifth of a stock list request's CPU. psycopg's loaders
    are per cursor (``Cursor.adapters``); Django's cursor passes the attribute on."""
    cursor.adapters.register_loader("uuid", TextLoader)
    if settings.USE_TZ:
        cursor.adapters.register_loader("timestamptz", TimestamptzLoader)
