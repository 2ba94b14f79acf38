/* Working as a team (team.c): a conversation's state and assignee, and its
 * internal notes. Each change is one transaction with its events (the live
 * stream, webhooks) and its audit row. Notes are never sent: nothing here
 * reaches a provider. */
#ifndef LB_GATEWAY_TEAM_H
#define LB_GATEWAY_TEAM_H

#include "gateway/gateway.h"

/* Applies ch to the patient's conversation for 'who'; *after is the result.
 * An assignee must be an active staff account: LB_EINVAL with why (size n)
 * otherwise. LB_ENOTFOUND: no such conversation. A change to what already
 * is records nothing. */
enum lb_err
gw_conversation_team_set(struct gateway *gw, const struct gw_actor *who,
                         const char *patient, const struct conv_team_change *ch,
                         struct conv_team *after, char *why, size_t n);
/* Adds a note with 'text' (checked: LB_EINVAL with why) by 'who' to the
 * patient's conversation; *out is the note stored. LB_ENOTFOUND: no such
 * conversation. */
enum lb_err gw_note_add(struct gateway *gw, const struct gw_actor *who,
                        const char *patient, const char *text, struct note *out,
                        char *why, size_t n);
/* A note as the API shows it ({"kind": "note", ...}); NULL when out of
 * memory. The caller owns the result. */
json_t *gw_note_json(const struct note *n);
/* A conversation's team fields for the API: {"state", "assigned_to"}
 * added to o. */
void gw_team_json_set(json_t *o, enum conv_state state,
                      const char *assigned_to);

#endif
