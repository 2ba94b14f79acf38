/* Search in message text on PostgreSQL: the same behaviour as search.c's
 * FTS5 index (each word a term, the last a prefix, accents ignored, a
 * snippet around the match) from a GIN index over a tsvector.
 *
 * The index is an expression index on lb_search_vector(body), so it is
 * kept by PostgreSQL itself in the transaction that writes the message:
 * found once committed, gone once a purge's deletion is. lb_search_vector
 * and lb_search_query wrap the 'simple' configuration (no stemming, no
 * stop words, as unicode61) behind unaccent (contrib, a trusted extension).
 * messages.search_key, the match's key, comes from a sequence.
 *
 * Every statement that knows how PostgreSQL's index is made lives here. */
#include <stdio.h>
#include <string.h>

#include "store/backend.h"
#include "util/clock.h"
#include "util/log.h"

static const char schema_sql[] =
    "CREATE EXTENSION IF NOT EXISTS unaccent;"
    "CREATE FUNCTION lb_search_vector(t text) RETURNS tsvector LANGUAGE sql"
    " IMMUTABLE PARALLEL SAFE AS $$ SELECT to_tsvector('simple'::regconfig,"
    " unaccent('unaccent'::regdictionary, t)) $$;"
    "CREATE FUNCTION lb_search_query(q text) RETURNS tsquery LANGUAGE sql"
    " IMMUTABLE PARALLEL SAFE AS $$ SELECT to_tsquery('simple'::regconfig,"
    " unaccent('unaccent'::regdictionary, q)) $$;"
    "CREATE SEQUENCE messages_search_key_seq;"
    "ALTER TABLE messages ALTER COLUMN search_key SET DEFAULT"
    " nextval('messages_search_key_seq');";

enum lb_err db_search_pg_migrate(struct dbc *c)
{
  static const char count_sql[] = "SELECT COUNT(*) FROM messages";
  static const char key_sql[] =
      "UPDATE messages SET search_key = nextval('messages_search_key_seq') "
      "WHERE search_key IS NULL";
  static const char index_sql[] = "CREATE INDEX messages_search ON messages "
                                  "USING gin (lb_search_vector(body))";
  int64_t total = 0, started = clock_now_ms();
  struct dbst *st;
  enum lb_err rc;

  if ((rc = db_script(c, schema_sql)))
    return rc;
  st = DB_Q0(c, count_sql);
  if (db_next(st))
    total = db_int(st, 0);
  if ((rc = db_end(st)))
    return rc;
  if (total)
    log_info("store.migrate", "building the search index over %lld messages",
             (long long)total);
  if ((rc = db_script(c, key_sql)) || (rc = db_script(c, index_sql)))
    return rc;
  if (total)
    log_info("store.migrate", "search index built: %lld messages in %lld ms",
             (long long)total, (long long)(clock_now_ms() - started));
  return LB_OK;
}

static int word_byte(unsigned char ch)
{
  return ch >= 0x80 || (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
         (ch >= 'A' && ch <= 'Z');
}

/* A tsquery: each word's tokens (its runs of letters and digits) quoted
 * and joined as a phrase (<->), the words joined by &, the last token a
 * prefix (:*). Quotes never occur inside a token, so nothing needs
 * escaping and the text always parses. */
enum lb_err db_search_pg_terms(const char *q, char *out, size_t n)
{
  size_t j = 0;
  int terms = 0;
  out[0] = '\0';
  while (*q) {
    size_t len, i;
    int tokens = 0;
    while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
      q++;
    len = strcspn(q, " \t\r\n");
    for (i = 0; i < len && !word_byte((unsigned char)q[i]); i++)
      ;
    if (i < len) {
      if (terms == DB_SEARCH_TERMS_MAX)
        break;
      if (j + 6 * len + 8 > n)
        return LB_ETOOBIG;
      if (terms)
        j += (size_t)snprintf(out + j, n - j, " & ");
      out[j++] = '(';
      while (i < len) {
        if (tokens)
          j += (size_t)snprintf(out + j, n - j, " <-> ");
        out[j++] = '\'';
        while (i < len && word_byte((unsigned char)q[i]))
          out[j++] = q[i++];
        out[j++] = '\'';
        tokens++;
        while (i < len && !word_byte((unsigned char)q[i]))
          i++;
      }
      out[j++] = ')';
      terms++;
    }
    q += len;
  }
  if (terms) {
    /* The last token as a prefix: the word being typed. */
    j--;
    out[j++] = ':';
    out[j++] = '*';
    out[j++] = ')';
  }
  out[j] = '\0';
  return LB_OK;
}

/* As search.c's list: the newest matching message of each conversation
 * and how many match (DISTINCT ON where SQLite has bare columns). */
#define HITS_SQL                                                               \
  "SELECT DISTINCT ON (m.conversation_id) m.conversation_id AS cid, m.id AS "  \
  "mid, m.search_key AS mkey, m.created_at AS mat, m.direction AS mdir, "      \
  "COUNT(*) OVER (PARTITION BY m.conversation_id) AS n FROM messages m "       \
  "WHERE lb_search_vector(m.body) @@ lb_search_query(?3) ORDER BY "            \
  "m.conversation_id, m.id DESC"

const char db_search_pg_list_sql[] =
    "SELECT c.number_e164, c.patient_e164, p.name, c.unread_count, "
    "c.last_message_id, p.opted_out_at, p.opt_out_source, h.mid, h.mkey, "
    "h.mat, h.mdir, h.n, c.state, c.assigned_to FROM conversations c JOIN "
    "patients p ON p.e164 = c.patient_e164 LEFT JOIN (" HITS_SQL ") h ON "
    "h.cid = c.id WHERE c.number_e164 = ?1 AND (lower(p.name) LIKE lower(?2) "
    "ESCAPE '\\' OR c.patient_e164 LIKE ?2 ESCAPE '\\' OR h.cid IS NOT NULL) "
    "AND (CAST(?5 AS TEXT) IS NULL OR c.state = ?5) AND (CAST(?6 AS TEXT) IS "
    "NULL OR COALESCE(c.assigned_to, '') = ?6) ORDER BY "
    "COALESCE(c.last_message_at, c.created_at) DESC, c.id DESC LIMIT ?4";

enum lb_err db_search_pg_snippet(struct dbc *c, const char *q,
                                 struct conversation_match *m)
{
  /* Markers \x01 and \x02 around each match, as search.c; a body that
   * holds them itself gets no highlights (flagged). */
  /* As FTS5's snippet of 16 tokens: a body of up to 16 words whole. */
  static const char sql[] =
      "SELECT ts_headline('simple', body, lb_search_query(?1), 'StartSel=' "
      "|| chr(1) || ', StopSel=' || chr(2) || CASE WHEN "
      "array_length(regexp_split_to_array(btrim(body), '\\s+'), 1) <= 16 "
      "THEN ', HighlightAll=true' ELSE ', MaxWords=16, MinWords=6, "
      "ShortWord=0' END), strpos(body, chr(1)) + strpos(body, chr(2)) FROM "
      "messages WHERE search_key = ?2";
  struct dbst *st = DB_Q(c, sql, DB_TEXT(q), DB_INT(m->key));
  if (db_next(st)) {
    db_text(st, 0, m->snippet, sizeof m->snippet);
    m->marked = db_int(st, 1) == 0;
  }
  return db_end(st);
}
