"""Hot statements compiled once per database and run on the driver's own cursor.

Why: every answered page runs three statements (read the response with its answers, claim
the response, upsert the answers). For a Core statement it has already compiled,
SQLAlchemy still spends about 90 µs per execution on this machine (cache key, parameter
processing, result metadata), against about 20 µs for SQLite itself; the load benchmark's
burst is bound by exactly that CPU.

What is kept from SQLAlchemy: it compiles the SQL for the dialect (paramstyle, casts,
``ON CONFLICT``), and its own type conversions (bind and result processors) encode and
decode every value, so a row is stored and read exactly as the ORM stores and reads it.
Driver errors are raised as SQLAlchemy's (``OperationalError`` ...), so the friendly
"try again" page (:mod:`surveyapp.db_errors`) still applies, and a connection found dead
is invalidated as SQLAlchemy would, so it never goes back to the pool.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

Processor = Callable[[Any], Any]


def _unchanged(value: Any) -> Any:
    return value


class Prepared:
    """One statement compiled for one dialect, with the type processors of its parameters
    (and, for a SELECT, of its columns)."""

    def __init__(
        self,
        statement: sa.Executable,
        dialect: Dialect,
        column_keys: Sequence[str] | None = None,
    ) -> None:
        compiled = statement.compile(
            dialect=dialect, column_keys=list(column_keys) if column_keys else None
        )
        if getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None):
            # Python-side column defaults are computed by SQLAlchemy's execution, not here.
            raise ValueError(f"give every column a value, defaults do not run: {compiled}")
        self.statement = statement  # kept alive: the cache below is keyed on its id
        self.sql: str = compiled.string
        self.dialect = dialect
        # Values fixed in the statement itself (``.values(declined=True)``).
        self._fixed = {
            name: bind.value for name, bind in compiled.binds.items() if not bind.required
        }
        self._order: tuple[str, ...] | None = (
            tuple(compiled.positiontup or ()) if compiled.positional else None
        )
        self._binds: dict[str, Processor] = {}
        for name, bind in compiled.binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self._binds[name] = processor
        self._results: list[Processor | None] = []
        if isinstance(statement, sa.Select):
            self._results = [
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in statement.selected_columns
            ]

    def _parameters(self, values: Mapping[str, Any]) -> Any:
        merged = {**self._fixed, **values} if self._fixed else dict(values)
        for name, processor in self._binds.items():
            if name in merged:
                merged[name] = processor(merged[name])
        if self._order is None:
            return merged
        return tuple(merged[name] for name in self._order)

    def _run(self, conn: sa.Connection, method: str, parameters: Any) -> Any:
        if not conn.in_transaction():
            # SQLAlchemy begins a transaction only in its own execute; without one, its
            # commit() would not reach the driver and these writes would stay uncommitted.
            conn.begin()
        cursor = conn.connection.cursor()
        try:
            getattr(cursor, method)(self.sql, parameters)
        except self.dialect.loaded_dbapi.Error as exc:
            cursor.close()
            invalidated = self.dialect.is_disconnect(exc, conn.connection, cursor)
            if invalidated:
                conn.invalidate(exc)
            raise sa.exc.DBAPIError.instance(
                self.sql,
                parameters,
                exc,
                self.dialect.loaded_dbapi.Error,
                connection_invalidated=invalidated,
                dialect=self.dialect,
            ) from exc
        return cursor

    def rows(self, conn: sa.Connection, values: Mapping[str, Any]) -> list[tuple]:
        """Every row of a SELECT as the driver gives it; :meth:`converter` converts a column.

        Conversion is left to the caller, so a value repeated on every row of a join (the
        response's columns next to each answer) is converted once, not once per row.
        """
        cursor = self._run(conn, "execute", self._parameters(values))
        try:
            return cursor.fetchall()
        finally:
            cursor.close()

    def converter(self, column: int) -> Processor:
        """Driver value -> Python value for one selected column, as SQLAlchemy converts it."""
        return self._results[column] or _unchanged

    def execute(self, conn: sa.Connection, values: Mapping[str, Any]) -> int:
        """Run a write; the number of rows it touched."""
        cursor = self._run(conn, "execute", self._parameters(values))
        count = cursor.rowcount
        cursor.close()
        return count

    def execute_many(self, conn: sa.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run a write once per row, sent as one batch (the driver's executemany).

        One row (most pages ask one question) goes as a plain execute: psycopg's executemany
        enters pipeline mode for the batch, about 60 µs more client CPU than one execute.
        """
        if len(rows) == 1:
            self.execute(conn, rows[0])
            return
        cursor = self._run(conn, "executemany", [self._parameters(row) for row in rows])
        cursor.close()


_prepared: dict[tuple[int, str, str, tuple[str, ...]], Prepared] = {}


def prepared(
    statement: sa.Executable, conn: sa.Connection, column_keys: Sequence[str] = ()
) -> Prepared:
    """``statement`` compiled for ``conn``'s dialect, once (statements must live for good:
    module constants or statements kept in a cache)."""
    key = (id(statement), conn.dialect.name, conn.dialect.driver, tuple(column_keys))
    found = _prepared.get(key)
    if found is None:
        found = Prepared(statement, conn.dialect, column_keys)
        _prepared[key] = found
    return found
