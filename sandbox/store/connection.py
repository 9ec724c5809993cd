"""DB-API connections for the store, one per thread.

SQLite goes through the standard library's sqlite3 (WAL, busy timeout), so a CLI command pays
no SQLAlchemy import on its hot path; any other URL (Postgres) gets a DB-API connection from a
SQLAlchemy engine. The tables are created by SQLAlchemy from sandbox.store.models either way.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import threading

BUSY_TIMEOUT_S = 30.0


class Database:
    def __init__(self, url: str):
        self.url = url
        # Plain sqlite:/// URLs use the standard library; dialect URLs such as
        # sqlite+pysqlite:// go through SQLAlchemy like any other database.
        self.is_sqlite = url.startswith("sqlite:///")
        self._local = threading.local()
        self._engine = None
        self._paramstyle = "qmark"
        if self.is_sqlite:
            self.path = url[len("sqlite:///"):] or ":memory:"

    def _connect(self):
        if self.is_sqlite:
            import sqlite3

            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                   check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            return conn
        if self._engine is None:
            from sandbox.store.db import get_engine

            self._engine = get_engine(self.url)
            self._paramstyle = self._engine.dialect.paramstyle
        return self._engine.raw_connection()

    @property
    def connection(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    def _sql(self, sql: str) -> str:
        if self._paramstyle in ("format", "pyformat"):
            return sql.replace("?", "%s")
        return sql

    def _param(self, value):
        # SQLite keeps datetimes as text in the format SQLAlchemy's SQLite dialect uses.
        if self.is_sqlite and isinstance(value, dt.datetime):
            return value.isoformat(sep=" ")
        return value

    @contextlib.contextmanager
    def transaction(self):
        """A cursor inside one transaction: committed on success, rolled back on error.

        SQLite takes the write lock up front (BEGIN IMMEDIATE) so that two engines sharing a
        file wait for each other (busy timeout) instead of failing on a lock upgrade."""
        conn = self.connection
        cursor = _Cursor(self, conn.cursor())
        if self.is_sqlite:
            conn.execute("BEGIN IMMEDIATE")
        try:
            yield cursor
        except BaseException:
            conn.rollback()
            raise
        else:
            conn.commit()

    def query(self, sql: str, params=()) -> list[tuple]:
        """A read outside any write transaction."""
        conn = self.connection
        cursor = conn.cursor()
        cursor.execute(self._sql(sql), [self._param(p) for p in params])
        rows = cursor.fetchall()
        if not self.is_sqlite:
            conn.commit()  # end the implicit read transaction
        return rows

    def integrity_error(self):
        if self.is_sqlite:
            import sqlite3

            return sqlite3.IntegrityError
        from sqlalchemy.exc import IntegrityError

        return (IntegrityError, self._engine.dialect.dbapi.IntegrityError)


class _Cursor:
    def __init__(self, database: Database, cursor):
        self._db = database
        self._cursor = cursor

    def execute(self, sql: str, params=()):
        self._cursor.execute(self._db._sql(sql), [self._db._param(p) for p in params])
        return self._cursor

    def fetchall(self):
        return self._cursor.fetchall()

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount
