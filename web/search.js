// Search in message text, on the inbox's side: a search result names the
// matching message (GET /api/v1/conversations?q= gives each conversation
// found by its text a "match"), the list shows that message's snippet with
// the matched words marked, and its link, #/c/<patient>/m/<message id>,
// opens the conversation scrolled to that message, highlighted.
//
// The snippet comes as parts ({ text, hit }) and goes in as text nodes and
// <mark> elements: what a patient wrote is never parsed as markup.

import { h } from '/static/dom.js';

// How many older pages (of OLDER_PAGE messages) a jump loads, at most, to
// reach a message that is not among the newest.
const OLDER_PAGE = 200;
const MAX_PAGES = 50;

export function matchHash(patient, messageId) {
  return `#/c/${encodeURIComponent(patient)}/m/${encodeURIComponent(messageId)}`;
}

// { patient, message } from "#/c/<patient>" or "#/c/<patient>/m/<id>";
// nulls when the hash is neither.
export function parseHash(hash) {
  const m = /^#\/c\/([^/]+)(?:\/m\/([^/]+))?$/.exec(hash || '');
  if (!m) return { patient: null, message: null };
  try {
    return { patient: decodeURIComponent(m[1]), message: m[2] ? decodeURIComponent(m[2]) : null };
  } catch {
    return { patient: null, message: null };
  }
}

// The snippet as nodes: plain text, and each matched word in a <mark>.
export function snippetNodes(parts) {
  return (parts || []).map((p) => (p.hit ? h('mark', { text: p.text }) : document.createTextNode(p.text)));
}

// Shows the conversation's matching message in its list item, in place of
// the last message's preview, or takes it away. Returns whether a match
// is shown. 'item' is the list's item (list.js): its preview span holds
// the snippet.
export function showMatch(item, match) {
  if (!match) {
    if (item.match) {
      item.match.remove();
      item.match = null;
      item.matchKey = null;
      item.li.classList.remove('has-match');
    }
    return false;
  }
  const key = JSON.stringify(match);
  if (item.match && item.matchKey === key) return true; // as drawn
  item.matchKey = key;
  const who = match.direction === 'outbound' ? 'You: ' : '';
  const more = match.count > 1 ? ` · ${match.count} messages match` : '';
  const el = h('span', { class: 'conv-match' }, who, snippetNodes(match.snippet), more);
  el.dataset.message = match.message_id;
  if (item.match) item.match.replaceWith(el);
  else item.preview.append(el);
  item.match = el;
  item.li.classList.add('has-match');
  return true;
}

// Makes sure message 'id' is in the thread, loading older pages through
// olderPage(beforeId, limit) (which adds them to the thread and returns
// how many it got, or null when the thread changed meanwhile). Returns
// { li, more }: the message's item (null when the conversation does not
// have it), and whether older messages remain unloaded.
export async function reachMessage(thread, id, olderPage) {
  let more = true;
  for (let page = 0; !thread.byId.has(id) && page < MAX_PAGES; page += 1) {
    const before = thread.oldestId();
    if (!before || before < id) break; // ids sort by time: it is not here
    const got = await olderPage(before, OLDER_PAGE);
    if (got === null) return { li: null, more, changed: true };
    if (got < OLDER_PAGE) {
      more = false;
      break;
    }
  }
  const entry = thread.byId.get(id);
  return { li: entry ? entry.li : null, more };
}

// Scrolls to a message and marks it as the one searched for (until the
// thread is drawn afresh, or another is marked).
export function highlightMessage(ol, li) {
  for (const old of ol.querySelectorAll('.msg.found')) {
    old.classList.remove('found');
    old.removeAttribute('tabindex');
    old.removeAttribute('aria-current');
  }
  li.classList.add('found');
  li.setAttribute('aria-current', 'true');
  li.tabIndex = -1;
  li.scrollIntoView({ block: 'center' });
  li.focus({ preventScroll: true });
}
