/* Search in message text: the full-text index over messages.body, how it
 * is built and kept, and the queries that read it.
 *
 * Every statement that knows how SQLite's index is made lives in this
 * file (an FTS5 table); PostgreSQL's (a GIN index over a tsvector) is in
 * search_pg.c, behind the same functions (struct db_dialect).
 *
 * SQLite: messages_fts is an external-content FTS5 table over messages
 * (the text is stored once, in messages). It is keyed by
 * messages.search_key, an integer given to each message on insert, not by
 * the table's rowid, which VACUUM may renumber. Triggers on messages keep
 * it current in the transaction that writes the message, so a message is
 * found once it is committed, and a deleted (purged) message is no longer
 * found once its deletion is. */
#include <stdio.h>
#include <string.h>

#include "store/backend.h"
#include "util/clock.h"
#include "util/log.h"

/* Rows indexed per step of the build, and per progress line. */
#define BUILD_CHUNK 20000

static const char schema_sql[] =
    "CREATE VIRTUAL TABLE messages_fts USING fts5(body, content='messages',"
    " content_rowid='search_key', tokenize='unicode61 remove_diacritics 2');"
    "CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN"
    " UPDATE messages SET search_key = (SELECT COALESCE(MAX(search_key), 0)"
    " + 1 FROM messages) WHERE rowid = new.rowid;"
    " INSERT INTO messages_fts(rowid, body) SELECT search_key, body FROM"
    " messages WHERE rowid = new.rowid; END;"
    "CREATE TRIGGER messages_search_delete AFTER DELETE ON messages"
    " WHEN old.search_key IS NOT NULL BEGIN"
    " INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete',"
    " old.search_key, old.body); END;"
    "CREATE TRIGGER messages_search_update AFTER UPDATE OF body ON messages"
    " WHEN old.search_key IS NOT NULL BEGIN"
    " INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete',"
    " old.search_key, old.body);"
    " INSERT INTO messages_fts(rowid, body) VALUES (new.search_key,"
    " new.body); END;";

enum lb_err db_search_sqlite_migrate(struct dbc *c)
{
  static const char count_sql[] = "SELECT COUNT(*) FROM messages";
  static const char hi_sql[] =
      "SELECT MAX(rowid) FROM (SELECT rowid FROM messages WHERE rowid > ? "
      "ORDER BY rowid LIMIT ?)";
  static const char key_sql[] = "UPDATE messages SET search_key = rowid "
                                "WHERE rowid > ? AND rowid <= ?";
  static const char fill_sql[] =
      "INSERT INTO messages_fts(rowid, body) SELECT search_key, body FROM "
      "messages WHERE rowid > ? AND rowid <= ?";
  int64_t total = 0, done = 0, lo = 0, started = clock_now_ms();
  struct dbst *st;
  enum lb_err rc;

  if ((rc = db_script(c, schema_sql)))
    return rc;
  st = DB_Q0(c, count_sql);
  if (db_next(st))
    total = db_int(st, 0);
  if ((rc = db_end(st)))
    return rc;
  if (!total)
    return LB_OK; /* a new database: nothing to build, nothing to say */
  log_info("store.migrate",
           "building the search index over %lld messages (a line every %d)",
           (long long)total, BUILD_CHUNK);
  for (;;) {
    int64_t hi = 0;
    int more;
    st = DB_Q(c, hi_sql, DB_INT(lo), DB_INT(BUILD_CHUNK));
    more = db_next(st) && !db_is_null(st, 0);
    if (more)
      hi = db_int(st, 0);
    if ((rc = db_end(st)))
      return rc;
    if (!more)
      break;
    /* Existing rows take their rowid as their key: new ones count on from
     * the largest (the insert trigger). */
    if ((rc = DB_EXEC(c, key_sql, DB_INT(lo), DB_INT(hi))) ||
        (rc = DB_EXEC(c, fill_sql, DB_INT(lo), DB_INT(hi))))
      return rc;
    done += db_changes(c);
    lo = hi;
    log_info("store.migrate", "search index: %lld of %lld messages",
             (long long)done, (long long)total);
  }
  log_info("store.migrate", "search index built: %lld messages in %lld ms",
           (long long)done, (long long)(clock_now_ms() - started));
  return LB_OK;
}

/* Whether a term has anything the tokenizer would index: an ASCII letter
 * or digit, or any non-ASCII byte (letters beyond ASCII). */
static int has_word(const char *p, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)p[i];
    if (ch >= 0x80 || (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
        (ch >= 'A' && ch <= 'Z'))
      return 1;
  }
  return 0;
}

enum lb_err db_search_sqlite_terms(const char *q, char *out, size_t n)
{
  size_t j = 0;
  int terms = 0;
  out[0] = '\0';
  while (*q) {
    size_t len;
    while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
      q++;
    len = strcspn(q, " \t\r\n");
    if (len && has_word(q, len)) {
      if (terms == DB_SEARCH_TERMS_MAX)
        break;
      /* Each term is an FTS5 string: quoted, '"' doubled. Operators and
       * punctuation inside it are plain text to the tokenizer. */
      if (j + 2 * len + 5 > n)
        return LB_ETOOBIG;
      if (terms)
        out[j++] = ' ';
      out[j++] = '"';
      for (size_t i = 0; i < len; i++) {
        if (q[i] == '"')
          out[j++] = '"';
        out[j++] = q[i];
      }
      out[j++] = '"';
      terms++;
    }
    q += len;
  }
  if (terms)
    out[j++] = '*'; /* the last term as a prefix: the word being typed */
  out[j] = '\0';
  return LB_OK;
}

/* The matching messages of each conversation: the newest match (its id,
 * key, time and direction, SQLite's bare columns beside MAX) and how many
 * match. ?3 is the FTS5 query. */
#define HITS_SQL                                                               \
  "SELECT m.conversation_id AS cid, MAX(m.id) AS mid, m.search_key AS mkey, "  \
  "m.created_at AS mat, m.direction AS mdir, COUNT(*) AS n FROM "              \
  "messages_fts f JOIN messages m ON m.search_key = f.rowid WHERE "            \
  "messages_fts MATCH ?3 GROUP BY m.conversation_id"

/* As conversations.c's list, with the conversations whose messages match
 * too. ?1 the clinic's number, ?2 the LIKE pattern for names and numbers,
 * ?3 the FTS5 query, ?4 the limit, ?5 the state (NULL: any), ?6 the
 * assignee (NULL: any, "": none). The state and assignee are the columns
 * from DB_SEARCH_TEAM_COL. */
const char db_search_sqlite_list_sql[] =
    "SELECT c.number_e164, c.patient_e164, p.name, c.unread_count, "
    "c.last_message_id, p.opted_out_at, p.opt_out_source, h.mid, h.mkey, "
    "h.mat, h.mdir, h.n, c.state, c.assigned_to FROM conversations c JOIN "
    "patients p ON p.e164 = c.patient_e164 LEFT JOIN (" HITS_SQL ") h ON "
    "h.cid = c.id WHERE c.number_e164 = ?1 AND (lower(p.name) LIKE lower(?2) "
    "ESCAPE '\\' OR c.patient_e164 LIKE ?2 ESCAPE '\\' OR h.cid IS NOT NULL) "
    "AND (CAST(?5 AS TEXT) IS NULL OR c.state = ?5) AND (CAST(?6 AS TEXT) IS "
    "NULL OR COALESCE(c.assigned_to, '') = ?6) ORDER BY "
    "COALESCE(c.last_message_at, c.created_at) DESC, c.id DESC LIMIT ?4";

void db_search_row(struct dbst *st, int col, struct conversation_match *m)
{
  memset(m, 0, sizeof *m);
  if (db_is_null(st, col))
    return;
  db_text(st, col, m->message_id, sizeof m->message_id);
  m->key = db_int(st, col + 1);
  m->created_at = db_int(st, col + 2);
  db_text(st, col + 3, m->direction, sizeof m->direction);
  m->count = (int)db_int(st, col + 4);
}

enum lb_err db_search_sqlite_snippet(struct dbc *c, const char *fts,
                                     struct conversation_match *m)
{
  /* Markers \x01 and \x02 around each match; a body that holds them
   * itself gets no highlights (flagged), as they would be ambiguous. */
  static const char sql[] =
      "SELECT snippet(messages_fts, 0, char(1), char(2), '…', 16), "
      "(SELECT instr(body, char(1)) + instr(body, char(2)) FROM messages "
      "WHERE search_key = ?2) FROM messages_fts WHERE messages_fts MATCH ?1 "
      "AND rowid = ?2";
  struct dbst *st = DB_Q(c, sql, DB_TEXT(fts), DB_INT(m->key));
  if (db_next(st)) {
    db_text(st, 0, m->snippet, sizeof m->snippet);
    m->marked = db_int(st, 1) == 0;
  }
  return db_end(st);
}

const struct db_dialect db_dialect_sqlite = {
    .lock_sql = NULL, /* one writer thread: writes are serial */
    .lock_name_sql = NULL,
    .search_migrate = db_search_sqlite_migrate,
    .search_terms = db_search_sqlite_terms,
    .search_list_sql = db_search_sqlite_list_sql,
    .search_snippet = db_search_sqlite_snippet,
};
