"""Django's SQLite backend, made safe for a webhook receiver that runs next
to other writers (runserver's threads, manage.py send_image):

- every transaction.atomic() block starts with BEGIN IMMEDIATE, so it takes
  the write lock at once and waits its turn (up to OPTIONS["timeout"]).
  With Django's plain BEGIN, a block that reads and then writes can fail at
  once with "database is locked" when another writer got there in between;
  the receiver would answer 500 and the event come again later. (Django 5.1
  and later offer OPTIONS["transaction_mode"] = "IMMEDIATE" instead.)
- the journal is WAL, so pages that only read never hold up a delivery.

On PostgreSQL none of this is needed: use its backend as it is."""
from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        conn = super().get_new_connection(conn_params)
        conn.execute("PRAGMA journal_mode = WAL")
        return conn

    def _start_transaction_under_autocommit(self):
        self.cursor().execute("BEGIN IMMEDIATE")
