#include <stdio.h>
#include <string.h>

#include "gateway/internal.h"
#include "gateway/team.h"
#include "util/clock.h"
#include "util/utf8.h"

json_t *gw_note_json(const struct note *n)
{
  char at[LB_ISO8601_LEN];
  clock_iso8601(n->created_at, at, sizeof at);
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kind", "note", "id",
                   n->id, "patient", n->patient, "author", n->author,
                   "author_kind", n->author_kind, "text", n->text, "created_at",
                   at);
}

void gw_team_json_set(json_t *o, enum conv_state state, const char *assigned_to)
{
  json_object_set_new(o, "state", json_string(conv_state_name(state)));
  json_object_set_new(o, "assigned_to",
                      assigned_to && *assigned_to ? json_string(assigned_to)
                                                  : json_null());
}

struct team_tx {
  struct gateway *gw;
  const struct gw_actor *who;
  const char *patient;
  const struct conv_team_change *ch;
  struct conv_team before, after;
  struct note *note;
  struct event ev[2];
  int n_ev;
};

static enum lb_err team_audit(struct team_tx *t, struct store_tx *tx,
                              const char *action, const char *from,
                              const char *to)
{
  struct audit_entry a;
  gw_audit_prepare(&a, t->who, action, t->patient, NULL, NULL);
  gw_audit_detail(&a, "from", from);
  gw_audit_detail(&a, "to", to);
  return store_tx_audit(tx, &a);
}

static enum lb_err team_emit(struct team_tx *t, struct store_tx *tx,
                             enum event_type type)
{
  struct event *ev = &t->ev[t->n_ev++];
  memset(ev, 0, sizeof *ev);
  ev->type = type;
  ev->patient = t->patient;
  ev->team = &t->after;
  ev->note = t->note;
  return gw_emit_in_tx(t->gw, tx, ev);
}

static enum lb_err team_in_tx(struct store_tx *tx, void *arg)
{
  struct team_tx *t = arg;
  enum lb_err rc;
  t->n_ev = 0;
  if ((rc = store_tx_conversation_team_set(tx, t->gw->cfg->number, t->patient,
                                           t->ch, &t->before, &t->after)))
    return rc;
  str_copy(t->after.changed_by, sizeof t->after.changed_by,
           t->who && t->who->name ? t->who->name : "");
  if (strcmp(t->before.assigned_to, t->after.assigned_to) &&
      ((rc = team_audit(t, tx, "conversation.assigned", t->before.assigned_to,
                        t->after.assigned_to)) ||
       (rc = team_emit(t, tx, EVENT_CONVERSATION_ASSIGNED))))
    return rc;
  if (t->before.state != t->after.state &&
      ((rc = team_audit(t, tx, "conversation.state_changed",
                        conv_state_name(t->before.state),
                        conv_state_name(t->after.state))) ||
       (rc = team_emit(t, tx, EVENT_CONVERSATION_STATE))))
    return rc;
  return LB_OK;
}

/* LB_OK when 'username' is an active account, else LB_EINVAL with why. */
static enum lb_err check_assignee(struct gateway *gw, const char *username,
                                  char *why, size_t n)
{
  struct user u;
  enum lb_err rc = store_user_get(gw->store, username, &u);
  if (rc == LB_ENOTFOUND) {
    snprintf(why, n, "there is no staff account '%s'", username);
    return LB_EINVAL;
  }
  if (rc)
    return rc;
  if (u.disabled) {
    snprintf(why, n,
             "the account '%s' is disabled; assign the conversation to an "
             "active staff member",
             username);
    return LB_EINVAL;
  }
  return LB_OK;
}

enum lb_err
gw_conversation_team_set(struct gateway *gw, const struct gw_actor *who,
                         const char *patient, const struct conv_team_change *ch,
                         struct conv_team *after, char *why, size_t n)
{
  struct team_tx t = {.gw = gw, .who = who, .patient = patient, .ch = ch};
  enum lb_err rc;
  if (ch->set_assignee && ch->assignee &&
      (rc = check_assignee(gw, ch->assignee, why, n)))
    return rc;
  if ((rc = store_write(gw->store, team_in_tx, &t)))
    return rc;
  for (int i = 0; i < t.n_ev; i++)
    gw_emit_committed(gw, &t.ev[i]);
  *after = t.after;
  return LB_OK;
}

static enum lb_err note_in_tx(struct store_tx *tx, void *arg)
{
  struct team_tx *t = arg;
  struct audit_entry a;
  char chars[24];
  size_t count = 0;
  enum lb_err rc;
  t->n_ev = 0;
  if ((rc = store_tx_note_add(tx, t->gw->cfg->number, t->note)))
    return rc;
  /* Who wrote a note, and when: its text stays with the conversation. */
  gw_audit_prepare(&a, t->who, "note.created", t->patient, t->note->id, NULL);
  utf8_count(t->note->text, strlen(t->note->text), &count);
  snprintf(chars, sizeof chars, "%zu", count);
  gw_audit_detail(&a, "characters", chars);
  if ((rc = store_tx_audit(tx, &a)))
    return rc;
  return team_emit(t, tx, EVENT_NOTE_CREATED);
}

enum lb_err gw_note_add(struct gateway *gw, const struct gw_actor *who,
                        const char *patient, const char *text, struct note *out,
                        char *why, size_t n)
{
  struct team_tx t = {.gw = gw, .who = who, .patient = patient, .note = out};
  enum lb_err rc;
  memset(out, 0, sizeof *out);
  if ((rc = note_text_check(text, why, n)))
    return rc;
  str_copy(out->patient, sizeof out->patient, patient);
  str_copy(out->text, sizeof out->text, text);
  str_copy(out->author, sizeof out->author,
           who && who->name ? who->name : "system");
  str_copy(out->author_kind, sizeof out->author_kind,
           who && who->kind ? who->kind : "system");
  if ((rc = store_write(gw->store, note_in_tx, &t)))
    return rc;
  for (int i = 0; i < t.n_ev; i++)
    gw_emit_committed(gw, &t.ev[i]);
  return LB_OK;
}
