// The staff inbox: conversation list, thread, compose box and live updates.

import { api, onUnauthorized, pathNumber, setCsrfToken } from '/static/api.js';
import { debounce, setText, showAlert } from '/static/dom.js';
import { makeClock } from '/static/time.js';
import { ConversationList, threadHash } from '/static/list.js';
import { Thread } from '/static/thread.js';
import { Compose } from '/static/compose.js';
import { Team } from '/static/team.js';
import { highlightMessage, parseHash, reachMessage } from '/static/search.js';
import { Notifier } from '/static/notify.js';
import { Panel, installShortcuts } from '/static/panel.js';

const $ = (id) => document.getElementById(id);
const els = {
  clinicName: $('clinic-name'),
  clinicNumber: $('clinic-number'),
  connection: $('connection'),
  simLink: $('sim-link'),
  adminLink: $('admin-link'),
  userName: $('user-name'),
  signOut: $('sign-out'),
  pageError: $('page-error'),
  layout: $('layout'),
  search: $('search'),
  newButton: $('new-message'),
  newForm: $('new-form'),
  newNumber: $('new-number'),
  newCancel: $('new-cancel'),
  newError: $('new-error'),
  listError: $('list-error'),
  conversations: $('conversations'),
  listEmpty: $('list-empty'),
  placeholder: $('thread-placeholder'),
  threadView: $('thread-view'),
  back: $('back'),
  title: $('thread-title'),
  number: $('thread-number'),
  editName: $('edit-name'),
  nameForm: $('name-form'),
  nameInput: $('patient-name'),
  nameCancel: $('name-cancel'),
  nameError: $('name-error'),
  scroller: $('scroller'),
  loadEarlier: $('load-earlier'),
  threadStatus: $('thread-status'),
  threadError: $('thread-error'),
  messages: $('messages'),
  compose: $('compose'),
  textarea: $('message'),
  optOut: $('opt-out'),
  optOutText: $('opt-out-text'),
  viewer: $('viewer'),
  viewerImg: $('viewer-img'),
  viewerOpen: $('viewer-open'),
  viewerClose: $('viewer-close'),
};

const PAGE = 50;

let session = null;
let clock = null;
let list = null;
let thread = null;
let compose = null;
let team = null;
let notifier = null;
let panel = null;

let openPatient = null; // number of the open conversation
let threadSeq = 0; // bumps whenever another thread opens; stale answers are dropped
let threadLoading = false;
let threadExists = false; // the open number has a conversation on the gateway
let pendingRead = false; // the open thread has messages nobody has looked at yet
let readInFlight = false;
let stick = true; // the thread is scrolled to the newest message
let enteredFromList = false;
let redirecting = false;
let viewerOpener = null;
const known = new Map(); // patient → conversation (name, unread …)

onUnauthorized(() => {
  if (redirecting) return;
  redirecting = true;
  location.assign('/login?next=/inbox');
});

const narrow = window.matchMedia('(max-width: 720px)');

// ---- start ---------------------------------------------------------------

async function start() {
  try {
    session = await api('/api/v1/session');
  } catch (err) {
    if (err.status !== 401) {
      showAlert(els.pageError, `${err.message} Trying again shortly.`);
      setTimeout(start, 5000);
    }
    return;
  }
  showAlert(els.pageError, '');
  setCsrfToken(session.csrf_token);
  const clinic = session.clinic || {};
  clock = makeClock(clinic.timezone);
  setText(els.clinicName, clinic.name || 'Inbox');
  setText(els.clinicNumber, clinic.number || '');
  setText(els.userName, (session.user && (session.user.name || session.user.username)) || '');
  els.simLink.hidden = !session.sim_phone;
  els.adminLink.hidden = !(session.user && session.user.role === 'admin');
  if (clinic.number && clinic.number.startsWith('+61')) els.newNumber.placeholder = '0412 345 678';
  notifier = new Notifier({
    onOpen: (patient) => {
      location.hash = threadHash(patient);
    },
    onAttention: readIfLooking,
  });
  notifier.setTitle(`Inbox · ${clinic.name || 'lyrebird'}`);

  list = new ConversationList(els.conversations, els.listEmpty, clock);
  thread = new Thread({ ol: els.messages, clock, onOpenImage: openImage });
  compose = new Compose({
    form: els.compose,
    getPatient: () => openPatient,
    onSent: messageSent,
    onInteract: interacted,
  });
  team = new Team({
    session,
    listHead: els.conversations,
    header: els.threadView.querySelector('.thread-header'),
    compose: els.compose,
    getPatient: () => openPatient,
    onFilter: () => refreshList(),
    onChanged: teamChanged,
    onNote: noteAdded,
  });
  panel = new Panel({
    layout: els.layout,
    header: els.threadView.querySelector('.thread-header'),
    clock,
    onOpenImage: openImage,
    exists: (patient) => known.has(patient) || (patient === openPatient && threadExists),
    onSaved: (patient, details) => {
      const conv = known.get(patient) || { patient, number: patient, unread: 0, last_message: null };
      known.set(patient, { ...conv, name: details.name || null });
      if (openPatient === patient) updateHeading();
      refreshList(true);
    },
  });
  wire();
  await refreshList();
  route();
  connectEvents();
  watchMidnight();
}

// ---- conversation list ---------------------------------------------------

let listSeq = 0;

async function refreshList(background = false) {
  const seq = ++listSeq;
  const q = els.search.value.trim();
  const params = new URLSearchParams(team.listParams());
  if (q) params.set('q', q);
  const url = params.size ? `/api/v1/conversations?${params}` : '/api/v1/conversations';
  try {
    const data = await api(url, { background });
    if (seq !== listSeq) return;
    showAlert(els.listError, '');
    const conversations = (data && data.conversations) || [];
    for (const c of conversations) known.set(c.patient, c);
    list.render(conversations, q);
    if (openPatient) {
      updateHeading();
      if (!readInFlight && !threadLoading && list.unreadOf(openPatient) > 0) pendingRead = true;
      readIfLooking();
    }
    notifier.setUnread(totalUnread());
  } catch (err) {
    if (seq === listSeq && err.status !== 401) showAlert(els.listError, err.message);
  }
}

const refreshListSoon = debounce(() => refreshList(true), 200);
const searchSoon = debounce(refreshList, 150);

// A conversation that is not in the list on screen (a search hides it, or
// the list has not loaded yet): the conversation, null when there is none,
// undefined when the gateway could not be asked.
async function findConversation(patient, background = false) {
  try {
    const data = await api(`/api/v1/conversations?state=all&q=${encodeURIComponent(patient)}`, { background });
    const conv = ((data && data.conversations) || []).find((c) => c.patient === patient) || null;
    if (conv) known.set(patient, conv);
    return conv;
  } catch {
    return undefined;
  }
}

async function lookupName(patient, background = false) {
  const conv = await findConversation(patient, background);
  if (conv && openPatient === patient) updateHeading();
}

// ---- routing: #/c/<number> opens a thread ---------------------------------

// #/c/<number>, or #/c/<number>/m/<message id> for a search result.
function hashPatient() {
  return parseHash(location.hash).patient;
}

function route() {
  const { patient, message } = parseHash(location.hash);
  if (patient) {
    if (patient !== openPatient) openThread(patient, { target: message });
    else {
      showPane('thread');
      if (message && !threadLoading) revealMessage(message);
    }
  } else {
    closeThread();
  }
}

function showPane(view) {
  els.layout.dataset.view = view;
}

// ---- thread --------------------------------------------------------------

function updateHeading() {
  if (!openPatient) return;
  const conv = known.get(openPatient);
  const name = conv && conv.name;
  setText(els.title, name || openPatient);
  setText(els.number, openPatient);
  els.number.hidden = !name;
  notifier.setTitle(`${name || openPatient} · Inbox`);
  showOptOut(conv && conv.opt_out);
  team.showThread(conv);
}

// A patient who opted out: the banner says since when and how, and the
// compose box is closed with the reason and the way back.
function showOptOut(optOut) {
  if (!optOut) {
    els.optOut.hidden = true;
    compose.setClosed(null);
    return;
  }
  const since = optOut.since ? clock.full(optOut.since) : 'an unknown date';
  setText(els.optOutText, `since ${since}: ${optOut.description}.`);
  els.optOut.hidden = false;
  compose.setClosed(
    `Nothing can be sent to this patient: they opted out of messages from this number. ` +
      `They can text START to opt back in, or a staff member can record their consent with a reason ` +
      `(lyrebird patient opt-in).`,
  );
}

async function openThread(patient, { reload = false, target = null } = {}) {
  if (!reload) compose.switchTo(openPatient, patient);
  openPatient = patient;
  const seq = ++threadSeq;
  threadLoading = true;
  pendingRead = false;
  stick = true;
  closeNameForm(false);
  els.placeholder.hidden = true;
  els.threadView.hidden = false;
  showPane('thread');
  list.setSelected(patient);
  list.clearUnread(patient);
  notifier.setUnread(totalUnread());
  panel.show(patient);
  updateHeading();
  thread.clear();
  els.loadEarlier.hidden = true;
  showAlert(els.threadError, '');
  setText(els.threadStatus, 'Loading messages…');
  if (!reload) focusThread();

  // A number nobody has written to yet has no conversation: show an empty
  // thread rather than asking for one that would only answer 404.
  let exists = known.has(patient);
  threadExists = exists;
  if (!exists) {
    const found = await findConversation(patient);
    if (seq !== threadSeq) return;
    exists = found !== null; // undefined: could not tell, so ask anyway
    threadExists = exists;
    if (found) updateHeading();
  }

  let messages = [];
  let failed = false;
  if (exists) {
    try {
      const data = await api(`/api/v1/conversations/${pathNumber(patient)}/messages?limit=${PAGE}&include=notes`);
      messages = (data && data.messages) || [];
    } catch (err) {
      if (seq !== threadSeq) return;
      exists = false;
      if (err.status !== 404) {
        failed = true;
        showAlert(els.threadError, err.message);
      }
    }
  }
  if (seq !== threadSeq) return;
  for (const m of messages) thread.upsert(m);
  threadExists = exists || thread.size > 0;
  els.loadEarlier.hidden = messageCount(messages) < PAGE;
  threadLoading = false;
  setText(els.threadStatus, failed || thread.size ? '' : 'No messages yet. Write the first one below.');
  scrollToBottom();
  if (threadExists) markRead(patient);
  if (target && threadExists) revealMessage(target);
}

// Brings a search result's message into the thread (loading older pages
// when it is not among the newest), scrolls to it and highlights it.
async function revealMessage(id) {
  const patient = openPatient;
  const seq = threadSeq;
  const { li, more, changed } = await reachMessage(thread, id, async (before, limit) => {
    const data = await api(
      `/api/v1/conversations/${pathNumber(patient)}/messages?limit=${limit}&include=notes&before=${encodeURIComponent(before)}`,
    ).catch((err) => {
      if (seq === threadSeq) showAlert(els.threadError, err.message);
      return null;
    });
    if (seq !== threadSeq || !data) return null;
    const messages = data.messages || [];
    for (const m of messages) thread.upsert(m);
    return messageCount(messages);
  });
  if (changed || seq !== threadSeq) return;
  if (!more) els.loadEarlier.hidden = true;
  if (!li) {
    setText(els.threadStatus, 'That message is no longer in this conversation.');
    return;
  }
  highlightMessage(els.messages, li);
  stick = false;
}

// After opening, the focus goes to the heading: a screen reader announces
// whose thread this is, Tab leads through it to the compose box, and typing
// a letter goes straight into the compose box (see wire()).
function focusThread() {
  els.title.focus({ preventScroll: true });
}

function closeThread() {
  const previous = openPatient;
  if (previous) compose.switchTo(previous, null);
  openPatient = null;
  threadSeq += 1;
  threadLoading = false;
  pendingRead = false;
  thread.clear();
  closeNameForm(false);
  els.threadView.hidden = true;
  els.placeholder.hidden = false;
  list.setSelected(null);
  showPane('list');
  notifier.setTitle(`Inbox · ${(session.clinic && session.clinic.name) || 'lyrebird'}`);
  panel.hide();
  if (previous && narrow.matches) list.focus(previous);
}

// Fetches the newest page again and merges it in (after a reconnect).
async function refetchThread() {
  if (!openPatient || threadLoading || !threadExists) return;
  const patient = openPatient;
  const seq = threadSeq;
  let data;
  try {
    data = await api(`/api/v1/conversations/${pathNumber(patient)}/messages?limit=${PAGE}&include=notes`, {
      background: true,
    });
  } catch {
    return;
  }
  if (seq !== threadSeq) return;
  const wasAtBottom = stick || atBottom();
  for (const m of (data && data.messages) || []) {
    if (thread.upsert(m) === 'added' && m.direction === 'inbound') pendingRead = true;
  }
  if (thread.size) setText(els.threadStatus, '');
  if (wasAtBottom) scrollToBottom();
}

// Throws away what the thread shows and loads it afresh (a "reset" event).
function reloadThread() {
  if (openPatient) openThread(openPatient, { reload: true });
}

async function loadEarlier() {
  const before = thread.oldestId();
  if (!openPatient || !before) return;
  const patient = openPatient;
  const seq = threadSeq;
  els.loadEarlier.disabled = true;
  try {
    const data = await api(
      `/api/v1/conversations/${pathNumber(patient)}/messages?limit=${PAGE}&include=notes&before=${encodeURIComponent(before)}`,
    );
    if (seq !== threadSeq) return;
    const messages = (data && data.messages) || [];
    const sc = els.scroller;
    const height = sc.scrollHeight;
    const top = sc.scrollTop;
    for (const m of messages) thread.upsert(m);
    sc.scrollTop = top + (sc.scrollHeight - height);
    if (messageCount(messages) < PAGE) {
      els.loadEarlier.hidden = true;
      els.title.focus();
    }
  } catch (err) {
    if (seq === threadSeq) showAlert(els.threadError, err.message);
  } finally {
    els.loadEarlier.disabled = false;
  }
}

async function markRead(patient) {
  pendingRead = false;
  readInFlight = true;
  list.clearUnread(patient);
  notifier.setUnread(totalUnread());
  try {
    await api(`/api/v1/conversations/${pathNumber(patient)}/read`, { method: 'POST' });
  } catch {
    // A conversation with no messages yet has nothing to mark.
  } finally {
    readInFlight = false;
  }
}

// Someone clicked, typed or moved focus in the open thread: what arrived
// while it was open counts as read now.
function interacted() {
  if (openPatient && !threadLoading && pendingRead) markRead(openPatient);
}

// The open thread is on screen (on a phone, the list may be instead).
function threadVisible() {
  return !!openPatient && !els.threadView.hidden && (!narrow.matches || els.layout.dataset.view === 'thread');
}

// What arrived in the open thread counts as read as soon as someone can see
// it: the window has the focus and the thread is on screen. In the
// background it stays unread until she comes back.
function readIfLooking() {
  if (pendingRead && notifier.attentive() && threadVisible()) interacted();
}

function totalUnread() {
  let n = 0;
  for (const item of list.items.values()) n += item.unread || 0;
  return n;
}

function atBottom() {
  const s = els.scroller;
  return s.scrollHeight - s.scrollTop - s.clientHeight < 48;
}

function scrollToBottom() {
  els.scroller.scrollTop = els.scroller.scrollHeight;
  stick = true;
}

function messageSent(message, patient) {
  if (patient === openPatient && message) {
    const first = !threadExists;
    threadExists = true;
    if (first) panel.changed();
    thread.upsert(message);
    setText(els.threadStatus, '');
    scrollToBottom();
    // A number typed in local form: continue under its E.164 form.
    if (message.to && message.to !== patient) location.replace(threadHash(message.to));
    else if ((message.media || []).length) panel.changed('media');
  }
  refreshListSoon();
}

// ---- live updates --------------------------------------------------------

let events = null;
let retryDelay = 1000;
let offlineTimer = null;

// The stream ends now and then and the browser reconnects at once; only say
// so when it stays down for a few seconds.
function setOffline(down) {
  if (!down) {
    clearTimeout(offlineTimer);
    offlineTimer = null;
    setText(els.connection, '');
  } else if (!offlineTimer) {
    offlineTimer = setTimeout(() => setText(els.connection, 'Reconnecting…'), 4000);
  }
}

function connectEvents() {
  if (events) events.close();
  const es = new EventSource('/api/v1/events');
  events = es;
  es.addEventListener('open', () => {
    retryDelay = 1000;
    setOffline(false);
    refreshList(true);
    refetchThread();
  });
  // The stream carries the events the clinic's app gets as webhooks (the
  // same names and data); the inbox needs only two reactions.
  for (const type of ['message.received', 'message.status', 'message.updated']) {
    es.addEventListener(type, (e) => {
      const data = parse(e.data);
      if (data && data.patient) onMessageEvent(data, type);
    });
  }
  for (const type of ['conversation.read', 'conversation.updated', 'patient.opted_out',
    'patient.opted_in']) {
    es.addEventListener(type, (e) => {
      const data = parse(e.data);
      if (data && data.patient === openPatient) {
        lookupName(openPatient, true);
        if (type !== 'conversation.read') panel.changed();
      }
      refreshListSoon();
    });
  }
  // Working as a team: an assignment or a state change redraws the list
  // and the heading; a note appears in its thread.
  for (const type of ['conversation.assigned', 'conversation.state_changed']) {
    es.addEventListener(type, (e) => {
      const data = parse(e.data);
      if (data && data.patient) teamChanged(data);
    });
  }
  es.addEventListener('note.created', (e) => {
    const data = parse(e.data);
    if (data && data.note && data.patient === openPatient) noteAdded(data.note);
  });
  es.addEventListener('reset', () => {
    refreshList(true);
    reloadThread();
  });
  es.addEventListener('error', () => {
    if (redirecting || events !== es) return;
    setOffline(true);
    if (es.readyState === EventSource.CLOSED) {
      // The stream was refused rather than dropped, so the browser will not
      // retry by itself: check the session (a 401 goes to sign-in), then retry.
      es.close();
      events = null;
      setTimeout(async () => {
        try {
          await api('/api/v1/session', { background: true });
        } catch {
          // Retry anyway; a 401 has already sent us to sign in.
        }
        if (!redirecting && !events) connectEvents();
      }, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 10000);
    }
  });
}

function parse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function onMessageEvent({ patient, message }, type) {
  const open = patient === openPatient;
  if (open && message && message.id) {
    const wasAtBottom = stick || atBottom();
    const change = thread.upsert(message);
    threadExists = true;
    if (change === 'added') {
      setText(els.threadStatus, '');
      // Read at once if someone is looking; otherwise when she comes back.
      if (message.direction === 'inbound') pendingRead = true;
      if (wasAtBottom) scrollToBottom();
      readIfLooking();
    }
    if ((message.media || []).length) panel.changed('media');
  }
  if (type === 'message.received' && message && message.direction === 'inbound') {
    const conv = known.get(patient);
    notifier.received({
      patient,
      name: conv && conv.name,
      text: message.text || ((message.media || []).length || message.media_pending ? 'Sent a picture.' : ''),
      visible: open && threadVisible(),
    });
  }
  refreshListSoon();
}

// How many of a page are messages (notes come with them, uncounted).
function messageCount(items) {
  return items.filter((m) => m.kind !== 'note').length;
}

// A conversation's assignee or state changed (here, or live).
function teamChanged({ patient, state, assigned_to: assignedTo }) {
  const conv = known.get(patient);
  if (conv) {
    conv.state = state;
    conv.assigned_to = assignedTo;
  }
  if (patient === openPatient) updateHeading();
  refreshListSoon();
}

function noteAdded(note) {
  const wasAtBottom = stick || atBottom();
  if (thread.upsert(note) === 'added') {
    setText(els.threadStatus, '');
    if (wasAtBottom) scrollToBottom();
  }
}

// Day headings say "Today"; fix them when the clinic's date changes.
function watchMidnight() {
  let today = clock.dayKey(new Date());
  setInterval(() => {
    const now = clock.dayKey(new Date());
    if (now !== today) {
      today = now;
      thread.fixAllDays();
      refreshList(true);
    }
  }, 60000);
}

// ---- image viewer --------------------------------------------------------

function openImage(url, alt, opener) {
  viewerOpener = opener;
  els.viewerImg.src = url;
  els.viewerImg.alt = alt;
  els.viewerOpen.href = url;
  els.viewer.showModal();
  els.viewerClose.focus();
}

// ---- name editing --------------------------------------------------------

function openNameForm() {
  const conv = known.get(openPatient);
  els.nameInput.value = (conv && conv.name) || '';
  showAlert(els.nameError, '');
  els.nameForm.hidden = false;
  els.editName.setAttribute('aria-expanded', 'true');
  els.nameInput.focus();
  els.nameInput.select();
}

function closeNameForm(returnFocus) {
  els.nameForm.hidden = true;
  els.editName.setAttribute('aria-expanded', 'false');
  showAlert(els.nameError, '');
  if (returnFocus) els.editName.focus();
}

async function saveName() {
  const patient = openPatient;
  const name = els.nameInput.value.trim();
  if (!threadExists) {
    showAlert(els.nameError, 'Send this patient a first message, then you can save their name.');
    return;
  }
  const save = els.nameForm.querySelector('button[type="submit"]');
  save.disabled = true;
  try {
    const data = await api(`/api/v1/patients/${pathNumber(patient)}`, { method: 'PATCH', json: { name } });
    const conv = known.get(patient) || { patient, number: patient, unread: 0, last_message: null };
    known.set(patient, { ...conv, name: (data && data.name) || null });
    if (openPatient === patient) {
      updateHeading();
      closeNameForm(true);
      panel.changed();
    }
    refreshList();
  } catch (err) {
    showAlert(els.nameError, err.message);
  } finally {
    save.disabled = false;
  }
}

// ---- new conversation ----------------------------------------------------

// Best effort: an Australian local mobile becomes E.164 here; anything else
// is passed on for the gateway to read, and the thread switches to the
// E.164 form after the first message.
function normaliseNumber(raw) {
  const s = raw.replace(/[\s\-().]/g, '');
  if (/^\+\d{6,15}$/.test(s)) return s;
  if (/^00\d{6,15}$/.test(s)) return '+' + s.slice(2);
  const clinic = (session.clinic && session.clinic.number) || '';
  if (/^0\d{9}$/.test(s) && clinic.startsWith('+61')) return '+61' + s.slice(1);
  if (/^\d{6,15}$/.test(s)) return s;
  return null;
}

function toggleNewForm(open) {
  els.newForm.hidden = !open;
  els.newButton.setAttribute('aria-expanded', String(open));
  showAlert(els.newError, '');
  if (open) els.newNumber.focus();
  else els.newButton.focus();
}

// ---- wiring --------------------------------------------------------------

function wire() {
  window.addEventListener('hashchange', (e) => {
    const from = /#\/c\//.test(new URL(e.oldURL).hash);
    if (!from && hashPatient()) enteredFromList = true;
    route();
  });

  els.search.addEventListener('input', () => searchSoon());
  els.search.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && els.search.value) {
      els.search.value = '';
      searchSoon.cancel();
      refreshList();
    }
  });

  // Choosing the thread that is already open: show it, and count as a look.
  els.conversations.addEventListener('click', (e) => {
    const li = e.target.closest('li.conv');
    if (li && li.dataset.patient === openPatient) {
      showPane('thread');
      if (list.unreadOf(openPatient) > 0) pendingRead = true;
      interacted();
    }
  });

  els.newButton.addEventListener('click', () => toggleNewForm(els.newForm.hidden));
  els.newCancel.addEventListener('click', () => toggleNewForm(false));
  els.newForm.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') toggleNewForm(false);
  });
  els.newForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const number = normaliseNumber(els.newNumber.value);
    if (!number) {
      showAlert(els.newError, 'Enter a mobile number, for example 0412 345 678 or +61412345678.');
      els.newNumber.focus();
      return;
    }
    els.newNumber.value = '';
    els.newForm.hidden = true;
    els.newButton.setAttribute('aria-expanded', 'false');
    showAlert(els.newError, '');
    if (number === openPatient) {
      showPane('thread');
      focusThread();
    } else {
      location.hash = threadHash(number);
    }
  });

  els.back.addEventListener('click', () => {
    if (enteredFromList) {
      enteredFromList = false;
      history.back();
    } else {
      location.replace('#/');
    }
  });

  els.editName.addEventListener('click', () => {
    if (els.nameForm.hidden) openNameForm();
    else closeNameForm(true);
  });
  els.nameCancel.addEventListener('click', () => closeNameForm(true));
  els.nameForm.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') closeNameForm(true);
  });
  els.nameForm.addEventListener('submit', (e) => {
    e.preventDefault();
    saveName();
  });

  els.loadEarlier.addEventListener('click', loadEarlier);

  installShortcuts({
    list: els.conversations,
    search: els.search,
    scroller: els.scroller,
    go: (step) => {
      const links = Array.from(els.conversations.querySelectorAll('li.conv'));
      if (!links.length) return;
      const at = links.findIndex((li) => li.dataset.patient === openPatient || li.contains(document.activeElement));
      const to = at < 0 ? (step > 0 ? 0 : links.length - 1) : Math.min(links.length - 1, Math.max(0, at + step));
      const patient = links[to].dataset.patient;
      if (patient === openPatient) return;
      location.hash = threadHash(patient);
    },
    escape: () => {
      if (notifier.close()) return true;
      if (panel.isOpen()) {
        panel.close(true);
        return true;
      }
      if (!els.newForm.hidden) {
        toggleNewForm(false);
        return true;
      }
      return false;
    },
  });

  els.scroller.addEventListener('scroll', () => {
    stick = atBottom();
  }, { passive: true });
  // A narrower window or a taller compose box: stay at the newest message.
  if ('ResizeObserver' in window) {
    new ResizeObserver(() => {
      if (stick && openPatient) scrollToBottom();
    }).observe(els.scroller);
  }
  // Pictures load after the layout: stay at the bottom if we were there.
  els.messages.addEventListener('load', () => {
    if (stick) scrollToBottom();
  }, true);

  // Typing while the heading has the focus writes into the compose box.
  els.title.addEventListener('keydown', (e) => {
    if (e.key.length === 1 && !e.ctrlKey && !e.metaKey && !e.altKey) els.textarea.focus();
  });

  // What counts as looking at the open thread.
  els.threadView.addEventListener('pointerdown', interacted);
  els.threadView.addEventListener('keydown', interacted);
  els.textarea.addEventListener('focus', (e) => {
    // relatedTarget is empty when the window itself regains focus: that
    // alone is not someone reading.
    if (e.relatedTarget) interacted();
  });

  // Dropping a file on the thread attaches it.
  const hasFiles = (e) => !!e.dataTransfer && Array.from(e.dataTransfer.types || []).includes('Files');
  let depth = 0;
  els.threadView.addEventListener('dragenter', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth += 1;
    els.threadView.classList.add('dropping');
  });
  els.threadView.addEventListener('dragover', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
  });
  els.threadView.addEventListener('dragleave', (e) => {
    if (!hasFiles(e)) return;
    depth = Math.max(0, depth - 1);
    if (depth === 0) els.threadView.classList.remove('dropping');
  });
  els.threadView.addEventListener('drop', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth = 0;
    els.threadView.classList.remove('dropping');
    const file = e.dataTransfer.files && e.dataTransfer.files[0];
    if (file) {
      compose.attach(file);
      pendingRead = pendingRead || list.unreadOf(openPatient) > 0;
      interacted();
      els.textarea.focus();
    }
  });
  // A file dropped anywhere else must not make the browser leave the page.
  window.addEventListener('dragover', (e) => {
    if (hasFiles(e)) e.preventDefault();
  });
  window.addEventListener('drop', (e) => {
    if (hasFiles(e)) e.preventDefault();
  });

  els.viewerClose.addEventListener('click', () => els.viewer.close());
  els.viewer.addEventListener('click', (e) => {
    if (e.target === els.viewer) els.viewer.close();
  });
  els.viewer.addEventListener('close', () => {
    els.viewerImg.removeAttribute('src');
    const opener = viewerOpener;
    viewerOpener = null;
    if (opener && opener.isConnected) opener.focus();
  });

  els.signOut.addEventListener('click', async () => {
    els.signOut.disabled = true;
    try {
      await api('/api/v1/session', { method: 'DELETE' });
    } catch (err) {
      if (err.status === 401) return; // already signed out; on the way to sign-in
      showAlert(els.pageError, err.message);
      els.signOut.disabled = false;
      return;
    }
    redirecting = true;
    if (events) events.close();
    location.assign('/login');
  });
}

start();
