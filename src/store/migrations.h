/* Versioned schema migrations, oldest first. Version N is migrations[N-1].
 * Never edit a released migration: add a new one. The SQL is portable
 * between SQLite and PostgreSQL. */
#ifndef LB_MIGRATIONS_H
#define LB_MIGRATIONS_H

static const char *const migrations[] = {
    /* 1: the spine */
    "CREATE TABLE numbers ("
    " e164 TEXT PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " host_provider TEXT NOT NULL,"
    " created_at BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL);"
    "CREATE TABLE patients ("
    " e164 TEXT PRIMARY KEY,"
    " name TEXT,"
    " opted_out_at BIGINT,"
    " opt_out_source TEXT,"
    " created_at BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL);"
    "CREATE TABLE conversations ("
    " id TEXT PRIMARY KEY,"
    " number_e164 TEXT NOT NULL REFERENCES numbers(e164),"
    " patient_e164 TEXT NOT NULL REFERENCES patients(e164),"
    " last_message_id TEXT,"
    " last_message_at BIGINT,"
    " unread_count INTEGER NOT NULL DEFAULT 0,"
    " created_at BIGINT NOT NULL,"
    " UNIQUE (number_e164, patient_e164));"
    "CREATE INDEX conversations_recent ON conversations(number_e164, "
    "last_message_at);"
    "CREATE TABLE messages ("
    " id TEXT PRIMARY KEY,"
    " conversation_id TEXT NOT NULL REFERENCES conversations(id),"
    " direction TEXT NOT NULL CHECK (direction IN ('outbound', 'inbound')),"
    " from_e164 TEXT NOT NULL,"
    " to_e164 TEXT NOT NULL,"
    " body TEXT NOT NULL,"
    " status TEXT NOT NULL,"
    " provider TEXT NOT NULL,"
    " provider_message_id TEXT,"
    " error_code TEXT,"
    " error_text TEXT,"
    " error_retryable INTEGER NOT NULL DEFAULT 0,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_attempt_at BIGINT,"
    " lease_until BIGINT,"
    " created_at BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL,"
    " UNIQUE (provider, provider_message_id));"
    "CREATE INDEX messages_conversation ON messages(conversation_id, id);"
    "CREATE INDEX messages_due ON messages(status, next_attempt_at);"
    "CREATE TABLE media ("
    " id TEXT PRIMARY KEY,"
    " sha256 TEXT NOT NULL,"
    " content_type TEXT NOT NULL,"
    " bytes BIGINT NOT NULL,"
    " blob_key TEXT NOT NULL,"
    " created_at BIGINT NOT NULL);"
    "CREATE TABLE message_media ("
    " message_id TEXT NOT NULL REFERENCES messages(id),"
    " position INTEGER NOT NULL,"
    " media_id TEXT NOT NULL REFERENCES media(id),"
    " PRIMARY KEY (message_id, position));"
    "CREATE TABLE message_events ("
    " id TEXT PRIMARY KEY,"
    " message_id TEXT NOT NULL REFERENCES messages(id),"
    " status TEXT NOT NULL,"
    " detail TEXT,"
    " at BIGINT NOT NULL);"
    "CREATE INDEX message_events_message ON message_events(message_id, id);"
    "CREATE TABLE idempotency_keys ("
    " key TEXT PRIMARY KEY,"
    " request_sha256 TEXT NOT NULL,"
    " message_id TEXT NOT NULL REFERENCES messages(id),"
    " created_at BIGINT NOT NULL);",
    /* 2: staff accounts and their sign-in sessions */
    "CREATE TABLE users ("
    " id TEXT PRIMARY KEY,"
    " username TEXT NOT NULL UNIQUE,"
    " display_name TEXT,"
    " role TEXT NOT NULL CHECK (role IN ('staff', 'admin')),"
    " password_hash TEXT NOT NULL,"
    " disabled_at BIGINT,"
    " created_at BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL);"
    "CREATE TABLE sessions ("
    " token_sha256 TEXT PRIMARY KEY,"
    " user_id TEXT NOT NULL REFERENCES users(id),"
    " csrf_token TEXT NOT NULL,"
    " created_at BIGINT NOT NULL,"
    " last_seen_at BIGINT NOT NULL);"
    "CREATE INDEX sessions_user ON sessions(user_id);",
    /* 3: routes, and secure links to images */
    "ALTER TABLE messages ADD COLUMN route TEXT;"
    "ALTER TABLE messages ADD COLUMN route_reason TEXT;"
    "CREATE TABLE links ("
    " id TEXT PRIMARY KEY,"
    " token_sha256 TEXT NOT NULL UNIQUE,"
    " message_id TEXT NOT NULL REFERENCES messages(id),"
    " patient_e164 TEXT NOT NULL,"
    " expires_at BIGINT NOT NULL,"
    " max_views INTEGER NOT NULL DEFAULT 0,"
    " views INTEGER NOT NULL DEFAULT 0,"
    " check_kind TEXT NOT NULL CHECK (check_kind IN ('none', 'dob', "
    "'code')),"
    " check_hash TEXT,"
    " failures INTEGER NOT NULL DEFAULT 0,"
    " locked_at BIGINT,"
    " revoked_at BIGINT,"
    " revoked_by TEXT,"
    " created_at BIGINT NOT NULL);"
    "CREATE INDEX links_message ON links(message_id);"
    "CREATE TABLE link_views ("
    " id TEXT PRIMARY KEY,"
    " link_id TEXT NOT NULL REFERENCES links(id),"
    " at BIGINT NOT NULL,"
    " ip TEXT,"
    " user_agent TEXT,"
    " outcome TEXT NOT NULL);"
    "CREATE INDEX link_views_link ON link_views(link_id, id);",
    /* 4: a patient's date of birth, for the second check on links */
    "ALTER TABLE patients ADD COLUMN dob TEXT;",
    /* 5: the one-time code check on links */
    "ALTER TABLE links ADD COLUMN code_expires_at BIGINT;"
    "ALTER TABLE links ADD COLUMN code_sent_at BIGINT;"
    "ALTER TABLE links ADD COLUMN codes_sent INTEGER NOT NULL DEFAULT 0;",
    /* 6: cleaned media, its variants (thumbnail, MMS fits, the original
     * when kept), and inbound media still to be fetched from a provider */
    "ALTER TABLE media ADD COLUMN width INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE media ADD COLUMN height INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE media_variants ("
    " media_id TEXT NOT NULL REFERENCES media(id),"
    " kind TEXT NOT NULL,"
    " blob_key TEXT NOT NULL,"
    " content_type TEXT NOT NULL,"
    " bytes BIGINT NOT NULL,"
    " width INTEGER NOT NULL,"
    " height INTEGER NOT NULL,"
    " quality INTEGER NOT NULL,"
    " created_at BIGINT NOT NULL,"
    " PRIMARY KEY (media_id, kind));"
    "CREATE TABLE media_fetches ("
    " id TEXT PRIMARY KEY,"
    " message_id TEXT NOT NULL REFERENCES messages(id),"
    " position INTEGER NOT NULL,"
    " url TEXT NOT NULL,"
    " state TEXT NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_at BIGINT NOT NULL,"
    " error TEXT,"
    " created_at BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL);"
    "CREATE INDEX media_fetches_due ON media_fetches(state, next_at);"
    "CREATE INDEX media_fetches_message ON media_fetches(message_id);",
    /* 7: patients' choices and the clinical record: the consent history
     * (append-only), what a message is for (a keyword's reply goes even to
     * an opted-out patient), provider-side redaction, and the tamper-
     * evident audit log (each row's hash covers the previous row's) */
    "CREATE TABLE consent_events ("
    " id TEXT PRIMARY KEY,"
    " patient_e164 TEXT NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('opted_out', 'opted_in')),"
    " source TEXT NOT NULL CHECK (source IN ('keyword', 'provider', 'staff',"
    " 'api')),"
    " message_id TEXT,"
    " provider TEXT,"
    " actor TEXT,"
    " reason TEXT,"
    " at BIGINT NOT NULL);"
    "CREATE INDEX consent_events_patient ON consent_events(patient_e164, id);"
    "ALTER TABLE patients ADD COLUMN opt_out_event TEXT;"
    "ALTER TABLE messages ADD COLUMN purpose TEXT;"
    "ALTER TABLE messages ADD COLUMN redacted_at BIGINT;"
    "CREATE INDEX messages_updated ON messages(updated_at);"
    "CREATE TABLE audit_log ("
    " seq BIGINT PRIMARY KEY,"
    " id TEXT NOT NULL UNIQUE,"
    " at BIGINT NOT NULL,"
    " actor_kind TEXT NOT NULL,"
    " actor TEXT,"
    " action TEXT NOT NULL,"
    " patient_e164 TEXT,"
    " subject TEXT,"
    " detail TEXT,"
    " ip TEXT,"
    " prev_hash TEXT NOT NULL,"
    " hash TEXT NOT NULL);"
    "CREATE INDEX audit_log_patient ON audit_log(patient_e164, seq);"
    "CREATE INDEX audit_log_at ON audit_log(at);",
    /* 8: the clinic's app as a first-class client: scoped API keys, the
     * event log (written in the transaction of each change: the changes
     * feed, the live stream's resume point and the webhooks' outbox),
     * webhook endpoints with their cursor and retry state, every delivery
     * attempt, and a message's own data from the app */
    "CREATE TABLE api_keys ("
    " id TEXT PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " prefix TEXT NOT NULL UNIQUE,"
    " key_sha256 TEXT NOT NULL,"
    " scopes TEXT NOT NULL,"
    " created_at BIGINT NOT NULL,"
    " created_by TEXT,"
    " last_used_at BIGINT,"
    " expires_at BIGINT,"
    " revoked_at BIGINT);"
    "CREATE TABLE events ("
    " seq BIGINT PRIMARY KEY,"
    " id TEXT NOT NULL UNIQUE,"
    " type TEXT NOT NULL,"
    " patient_e164 TEXT,"
    " message_id TEXT,"
    " subject TEXT,"
    " endpoint_id TEXT,"
    " payload TEXT,"
    " at BIGINT NOT NULL);"
    "CREATE INDEX events_at ON events(at);"
    /* One row: the last seq given. Taken in the transaction that writes
     * the event, so seq order is commit order on every backend. */
    "CREATE TABLE event_counter (n BIGINT NOT NULL);"
    "INSERT INTO event_counter(n) VALUES (0);"
    "CREATE TABLE webhook_endpoints ("
    " id TEXT PRIMARY KEY,"
    " url TEXT NOT NULL,"
    " description TEXT,"
    " events TEXT NOT NULL,"
    " enabled INTEGER NOT NULL DEFAULT 1,"
    " disabled_reason TEXT,"
    " secret TEXT NOT NULL,"
    " old_secret TEXT,"
    " old_secret_until BIGINT,"
    " cursor_seq BIGINT NOT NULL DEFAULT 0,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_at BIGINT NOT NULL DEFAULT 0,"
    " failing_since BIGINT,"
    " created_at BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL,"
    " removed_at BIGINT);"
    "CREATE TABLE webhook_attempts ("
    " id TEXT PRIMARY KEY,"
    " endpoint_id TEXT NOT NULL,"
    " event_id TEXT NOT NULL,"
    " event_type TEXT NOT NULL,"
    " attempt INTEGER NOT NULL,"
    " at BIGINT NOT NULL,"
    " status INTEGER,"
    " error TEXT,"
    " duration_ms INTEGER NOT NULL,"
    " outcome TEXT NOT NULL);"
    "CREATE INDEX webhook_attempts_endpoint ON webhook_attempts(endpoint_id, "
    "id);"
    "ALTER TABLE messages ADD COLUMN metadata TEXT;"
    "ALTER TABLE messages ADD COLUMN client_reference TEXT;"
    /* The seq of the message's latest event: the changes feed. */
    "ALTER TABLE messages ADD COLUMN change_seq BIGINT;"
    "CREATE INDEX messages_change_seq ON messages(change_seq);",

    /* 9: a replay's fence. The webhook worker writes an endpoint's progress
     * only while this is still the count it read. */
    "ALTER TABLE webhook_endpoints ADD COLUMN rewinds INTEGER NOT NULL "
    "DEFAULT 0;",

    /* 10: search in message text. Each message's key in the index (given
     * on insert); the index itself, its triggers and the build over the
     * existing messages are the backend's own: the C step db_search_migrate
     * (store/search.c), run after this SQL (see migration_steps). */
    "ALTER TABLE messages ADD COLUMN search_key BIGINT;"
    "CREATE UNIQUE INDEX messages_search_key ON messages(search_key);",

    /* 11: staff retry a failed message as a new attempt of the same message
     * (its reference round, bumped when the provider had the earlier
     * attempt, and each earlier attempt's provider id, so a late receipt
     * for it is told apart), edit and resend it as a new message linked to
     * the original, and keep the clinic's message templates */
    "ALTER TABLE messages ADD COLUMN ref_round INTEGER NOT NULL DEFAULT 1;"
    "ALTER TABLE messages ADD COLUMN resend_of TEXT;"
    "CREATE TABLE message_attempts ("
    " id TEXT PRIMARY KEY,"
    " message_id TEXT NOT NULL,"
    " provider TEXT NOT NULL,"
    " provider_message_id TEXT,"
    " status TEXT NOT NULL,"
    " error_code TEXT,"
    " ended_at BIGINT NOT NULL);"
    "CREATE INDEX message_attempts_message ON message_attempts(message_id, "
    "id);"
    "CREATE INDEX message_attempts_provider_id ON message_attempts(provider, "
    "provider_message_id);"
    "CREATE TABLE templates ("
    " id TEXT PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " body TEXT NOT NULL,"
    " created_at BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL,"
    " updated_by TEXT);",

    /* 12: working as a team: a conversation's state (done hides it from
     * the default list until the patient writes again) and the staff
     * member it is assigned to; internal notes, which are never sent. */
    "ALTER TABLE conversations ADD COLUMN state TEXT NOT NULL DEFAULT "
    "'open' CHECK (state IN ('open', 'done'));"
    "ALTER TABLE conversations ADD COLUMN assigned_to TEXT;"
    "CREATE INDEX conversations_assigned ON conversations(number_e164, "
    "assigned_to);"
    "CREATE TABLE conversation_notes ("
    " id TEXT PRIMARY KEY,"
    " conversation_id TEXT NOT NULL,"
    " patient_e164 TEXT NOT NULL,"
    " author_kind TEXT NOT NULL,"
    " author TEXT NOT NULL,"
    " text TEXT NOT NULL,"
    " created_at BIGINT NOT NULL);"
    "CREATE INDEX conversation_notes_conv ON conversation_notes("
    "conversation_id, id);"
    "CREATE INDEX conversation_notes_patient ON conversation_notes("
    "patient_e164);",

    /* 13: several nodes on one database: each gateway node and its
     * heartbeat; the outbox's lease on a message it is sending (which
     * node; migration 1 made lease_until, the expiry after which another
     * node may take it over); and the
     * limits that nodes share (sign-in throttles), one row per subject. */
    "CREATE TABLE nodes ("
    " id TEXT PRIMARY KEY,"
    " host TEXT NOT NULL,"
    " pid BIGINT NOT NULL,"
    " media TEXT NOT NULL,"
    " started_at BIGINT NOT NULL,"
    " seen_at BIGINT NOT NULL);"
    "ALTER TABLE messages ADD COLUMN lease_node TEXT;" /* lease_until: 1 */
    "CREATE INDEX messages_lease ON messages(status, lease_until);"
    "CREATE TABLE shared_limits ("
    " subject TEXT PRIMARY KEY,"
    " fails BIGINT NOT NULL,"
    " first_at BIGINT NOT NULL,"
    " locked_until BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL);",

    /* 14: work only one node does at a time (the webhook deliveries): a
     * named lease, held by a node until it lapses. */
    "CREATE TABLE leases ("
    " name TEXT PRIMARY KEY,"
    " node TEXT NOT NULL,"
    " until_at BIGINT NOT NULL);",
};

#define MIGRATIONS_COUNT ((int)(sizeof migrations / sizeof migrations[0]))

#endif
