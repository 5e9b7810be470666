// The counsellors' desk of Faros: the queue of cases on the left, the open case on the right.
// Everything lives in this page's variables and DOM only: no browser storage, no service
// worker; the CSRF token is kept in a variable. A person's words are always set as text
// (textContent), never as markup.
'use strict';

(() => {
  // ---- Elements -------------------------------------------------------------------------

  const $ = (id) => document.getElementById(id);
  const ui = {
    alias: $('alias'), supervisor: $('supervisor'), duty: $('duty'), notify: $('notify'), signout: $('signout'),
    conn: $('conn'), alert: $('alert'), alertCase: $('alert-case'), alertOpen: $('alert-open'), alertOk: $('alert-ok'),
    queue: $('queue'), offcall: $('offcall'), sectionHeld: $('section-held'),
    caseEmpty: $('case-empty'), caseView: $('case-view'), caseTitle: $('case-title'), caseTier: $('case-tier'),
    caseLang: $('case-lang'), caseInterp: $('case-interp'), caseState: $('case-state'), caseAlert: $('case-alert'),
    claim: $('claim'), releaseBox: $('release-box'), releaseReason: $('release-reason'), release: $('release'),
    transferBox: $('transfer-box'), transferTo: $('transfer-to'), transfer: $('transfer'),
    closeBox: $('close-box'), outcome: $('outcome'), referralBox: $('referral-box'), referral: $('referral'), close: $('close'),
    audit: $('audit'), auditBox: $('audit-box'), auditList: $('audit-list'),
    closeAsk: $('close-ask'), closeQuestion: $('close-question'), closeConfirm: $('close-confirm'), closeCancel: $('close-cancel'),
    transcript: $('transcript'), transcriptNote: $('transcript-note'), packet: $('packet'),
    composer: $('composer'), composerTo: $('composer-to'), composerWarn: $('composer-warn'), canned: $('canned'),
    message: $('message'), cannedGreek: $('canned-greek'), send: $('send'), sendLabel: $('send').querySelector('.label'),
    note: $('note'), status: $('status'), idle: $('idle'), idleStay: $('idle-stay'),
  };

  // ---- Words (Greek · English) -----------------------------------------------------------

  const T = {
    idleSoon: 'Θα αποσυνδεθείς σε 2 λεπτά · You will be signed out in 2 minutes',
    waiting: 'Αναμένει · Waiting', mine: 'Δική σου · Yours', held: (x) => `Την έχει ο/η ${x} · Held by ${x}`,
    tier: (n) => `Επίπεδο ${n} · Tier ${n}`, urgent: 'Επείγον · Urgent', interpreter: 'διερμηνέας · interpreter',
    needsAnswer: 'Περιμένει απάντηση · Needs an answer', reminded: 'Υπενθύμιση · Reminded',
    alerts: { emergency: 'Έκτακτο · Emergency', duress: 'Κρυφό σήμα · Duress word', help: 'Ζητά βοήθεια · Asked for help' },
    messagesWaiting: 'μηνύματα χωρίς απάντηση · messages waiting',
    clockWaiting: 'Χρόνος αναμονής · Time waiting', clockHeld: 'Από την ανάληψη · Since claimed',
    caseTitle: (id) => `Υπόθεση ${id} · Case ${id}`, loading: 'Φόρτωση… · Loading…',
    writingTo: (id, lang) => `Γράφεις στην υπόθεση ${id} · Writing to case ${id} — ${lang}`,
    inGreek: 'Στα ελληνικά: ', person: 'Άτομο · Person', note: 'Σημείωση · Note',
    locked: 'Η συνομιλία φαίνεται μετά την ανάληψη · The conversation shows once you claim the case',
    noEntries: 'Κανένα μήνυμα ακόμα · No messages yet',
    gone: 'Η υπόθεση δεν είναι πια ανοιχτή για σένα · This case is no longer open to you',
    onCall: 'Σε βάρδια · On call', offCall: 'Εκτός βάρδιας · Off call',
    notifyAsk: 'Ενεργοποίηση ειδοποιήσεων · Enable notifications', notifyOn: 'Ειδοποιήσεις ενεργές · Notifications on',
    notifyOff: 'Ειδοποιήσεις μπλοκαρισμένες · Notifications blocked',
    notifyHelp: 'Επίτρεψέ τες από τις ρυθμίσεις του φυλλομετρητή · Allow them in the browser settings',
    notification: 'Μια υπόθεση σε χρειάζεται · A case needs you',
    transfer: 'Μεταφορά · Transfer', reassign: 'Ανάθεση · Reassign',
    reasonPick: 'Λόγος… · Reason…', colleaguePick: 'Σε… · To…', nobody: 'Κανείς άλλος σε βάρδια · Nobody else on call',
    outcomePick: 'Έκβαση… · Outcome…', referralPick: 'Παραπομπή σε… · Referred to…',
    chooseReason: 'Διάλεξε λόγο · Choose a reason', chooseColleague: 'Διάλεξε συνάδελφο · Choose a colleague',
    chooseOutcome: 'Διάλεξε έκβαση · Choose an outcome',
    chooseReferral: 'Διάλεξε πού έγινε η παραπομπή · Choose where it was referred',
    closeAsk: (id, what) => `Κλείσιμο της υπόθεσης ${id} με έκβαση «${what}»; Τα στοιχεία της θα διαγραφούν ` +
      `οριστικά. · Close case ${id} as “${what}”? Its data is deleted for good.`,
    sendLabel: 'Αποστολή · Send', sending: 'Αποστολή… · Sending…',
    offline: 'Δεν υπάρχει σύνδεση με τον διακομιστή · No connection to the server',
    error: (n) => `Σφάλμα ${n} · Error ${n}`, noAudit: 'Καμία καταγραφή · Nothing recorded',
  };

  // ---- State (memory only) ---------------------------------------------------------------

  let csrf = ''; // from GET /api/me; sent as X-CSRF-Token with every POST
  let me = null; // { id, alias, supervisor, onCall }
  let board = null; // the last GET /api/board
  let clockOffset = 0; // the server's clock minus this computer's
  let openId = ''; // the case shown on the right
  let shown = null; // its last GET /api/cases/{id}
  let shownEntries = 0; // how many of its entries the transcript holds
  let auditOpen = false;
  let closeFor = null; // { id, outcome, referral }: what the in-page close confirm is about
  let boardSeq = 0; // the last board and case requests: older answers are dropped
  let caseSeq = 0;
  let gone = false; // signed out: nothing more happens
  const drafts = new Map(); // case id → { text, greek: [] }: each draft stays with its case
  const sending = new Set(); // case ids with a message or note on its way
  const alerted = new Map(); // case id → when its last urgent alert went off
  const notices = new Map(); // case id → its open Notification
  let events = null; // the EventSource
  let streamOk = true; // the EventSource is open
  let fetchOk = true; // the last board read got through
  let audio = null; // the AudioContext, made at the first click
  let urgentUnacked = false; // an urgent alert nobody looked at yet
  let alertCase = '';
  let blinkOn = false;
  let idleMs = 0; // the session's idle limit, from GET /api/me: reads alone do not renew it
  let lastActive = Date.now(); // the last POST the server counted as the counsellor at work

  // ---- Small helpers ---------------------------------------------------------------------

  // el makes an element with its children: a string goes in as text, never as markup; null,
  // undefined and false are left out.
  function el(tag, className, ...children) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c instanceof Node ? c : String(c));
    return e;
  }

  function on(node, type, f) {
    node.addEventListener(type, f);
  }

  const zone = { timeZone: 'Europe/Athens' };
  const athensTime = new Intl.DateTimeFormat('el-GR', { ...zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const athensDate = new Intl.DateTimeFormat('el-GR', { ...zone, day: '2-digit', month: '2-digit' });
  const englishNames = Intl.DisplayNames ? new Intl.DisplayNames(['en'], { type: 'language' }) : null;

  function timeNode(ms, withDate) {
    const t = el('time', 'at', (withDate ? athensDate.format(ms) + ' ' : '') + athensTime.format(ms));
    t.dateTime = new Date(ms).toISOString();
    return t;
  }

  // langLabel is a case's language in Greek (from the server) and English (from the browser).
  function langLabel(c) {
    let en = '';
    try {
      en = englishNames && c.lang ? englishNames.of(c.lang) : '';
    } catch (err) { /* not a language code */ }
    const gr = c.langName || c.lang || '—';
    return en && en !== c.lang && en !== gr ? `${gr} · ${en}` : gr;
  }

  const setLang = (node, lang) => /^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(lang || '') && (node.lang = lang);

  // duration is "4:07", or "1:04:07" past an hour.
  function duration(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    const pad = (n) => String(n).padStart(2, '0');
    const h = Math.floor(s / 3600);
    return (h ? `${h}:${pad(Math.floor(s / 60) % 60)}` : `${Math.floor(s / 60)}`) + `:${pad(s % 60)}`;
  }

  // ---- Talking to the server -------------------------------------------------------------

  class SignedOut extends Error {}

  // api GETs path, or POSTs body as JSON with the CSRF token. A 401 signs the page out; an
  // error answer throws its text.
  async function api(path, body) {
    if (gone) throw new SignedOut();
    const init = { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      init.method = 'POST';
      Object.assign(init.headers, { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf });
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (err) {
      throw new Error(T.offline);
    }
    if (res.status === 401 || (res.redirected && new URL(res.url).pathname === '/signin')) {
      signedOut();
      throw new SignedOut();
    }
    const data = await res.json().catch(() => null);
    if (res.ok && data) {
      if (body !== undefined) lastActive = Date.now(); // the server counts a POST as the counsellor at work
      return data;
    }
    const e = new Error((data && data.error) || T.error(res.status));
    e.status = res.status;
    throw e;
  }

  const casePath = (id, verb) => `/api/cases/${encodeURIComponent(id)}${verb ? '/' + verb : ''}`;

  // say shows a message in the status line; ok false shows it as a warning.
  function say(message, ok = true) {
    ui.status.textContent = message || '';
    ui.status.classList.toggle('warn', !ok);
  }

  // fail shows an error (but not a sign-out, which leaves the page) and returns null.
  function fail(err) {
    if (!(err instanceof SignedOut)) say(err.message, false);
    return null;
  }

  // answered shows the answer to a POST; it returns whether it was ok.
  function answered(r) {
    if (r) say(r.message, r.ok !== false);
    return Boolean(r) && r.ok !== false;
  }

  const setConn = () => { ui.conn.hidden = streamOk && fetchOk; };

  // signedOut empties the page of every case and goes to the sign-in page.
  function signedOut() {
    if (gone) return;
    gone = true;
    if (events) events.close();
    drafts.clear();
    for (const n of notices.values()) n.close();
    notices.clear();
    board = shown = null;
    document.body.replaceChildren();
    document.title = 'Faros';
    location.replace('/signin');
  }

  // ---- The top bar -----------------------------------------------------------------------

  function renderMe() {
    ui.alias.textContent = me.alias || me.id || '';
    ui.supervisor.hidden = ui.sectionHeld.hidden = !me.supervisor;
    ui.duty.textContent = me.onCall ? T.onCall : T.offCall;
    ui.duty.setAttribute('aria-pressed', String(me.onCall));
    ui.duty.classList.toggle('on', me.onCall);
    ui.offcall.hidden = me.onCall;
  }

  async function toggleDuty() {
    const onCall = !me.onCall;
    ui.duty.disabled = true;
    if (answered(await api('/api/duty', { on: onCall }).catch(fail))) me.onCall = onCall;
    ui.duty.disabled = false;
    renderMe();
    refreshBoard();
  }

  function renderNotify() {
    if (!('Notification' in window)) return void (ui.notify.hidden = true);
    const p = Notification.permission;
    ui.notify.textContent = { granted: T.notifyOn, denied: T.notifyOff }[p] || T.notifyAsk;
    ui.notify.title = p === 'denied' ? T.notifyHelp : '';
    ui.notify.disabled = p !== 'default';
  }

  async function askNotify() {
    await Notification.requestPermission().catch(() => {});
    renderNotify();
    ring(); // and the counsellor hears that the sound works
  }

  async function signOut() {
    const headers = { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf };
    await fetch('/auth/signout', { method: 'POST', credentials: 'same-origin', cache: 'no-store', headers, body: '{}' })
      .catch(() => {});
    signedOut();
  }

  // ---- The queue -------------------------------------------------------------------------

  async function refreshBoard() {
    const seq = ++boardSeq;
    const b = await api('/api/board').catch(() => null);
    fetchOk = Boolean(b) || gone;
    setConn();
    if (!b || seq !== boardSeq || gone) return;
    const prev = board;
    board = { ...b, cases: b.cases || [], colleagues: b.colleagues || [] };
    if (me && typeof b.onCall === 'boolean' && b.onCall !== me.onCall) { // a shift began or ended
      me.onCall = b.onCall;
      renderMe();
    }
    clockOffset = (b.now || Date.now()) - Date.now();
    newUrgentCases(prev, board);
    renderQueue();
    fillColleagues();
    forgetClosed();
    updateTitle();
    if (openId && !board.cases.some((c) => c.id === openId)) refreshCase();
  }

  // refreshNotices shows what Faros told a counsellor of the desk only (a case taken away, a
  // person who wiped the chat, a reminder): the last ten of the hour, newest first.
  async function refreshNotices() {
    const n = await api('/api/notices').catch(() => null);
    if (!n || gone) return;
    const list = (n.notices || []).slice(0, 10);
    $('notices').replaceChildren(...list.map((x) => {
      // The first line says what it is; the rest (a case's packet, say) opens on a click.
      const [first, ...rest] = String(x.text || '').split('\n');
      const head = [timeNode(x.at), ' ', first];
      const body = el('div', 'text', rest.join('\n'));
      body.dir = 'auto';
      const item = rest.length ? el('details', '', el('summary', '', ...head), body) : el('div', 'text', ...head);
      return el('li', x.urgent ? 'notice urgent' : 'notice', item);
    }));
    $('section-notices').hidden = list.length === 0;
  }

  // renderQueue draws the three sections; the row that had the focus keeps it.
  function renderQueue() {
    const focused = document.activeElement && document.activeElement.dataset.case;
    const groups = { waiting: [], mine: [], held: [] };
    for (const c of board.cases) (groups[c.state] || groups.held).push(c);
    for (const [name, cases] of Object.entries(groups)) {
      $(`list-${name}`).replaceChildren(...cases.map(queueRow));
      $(`empty-${name}`).hidden = cases.length > 0;
      $(`count-${name}`).textContent = cases.length ? `(${cases.length})` : '';
    }
    if (focused) rowOf(focused)?.focus();
    tick();
  }

  const rowOf = (id) => ui.queue.querySelector(`button[data-case="${CSS.escape(id)}"]`);

  // queueRow is a case's row: a button with its tier, id, messages waiting, language, state,
  // clock and marks.
  function queueRow(c) {
    const count = c.waiting > 0 && el('span', 'badge', c.waiting, el('span', 'vh', ' ' + T.messagesWaiting));
    if (count) count.title = T.messagesWaiting;
    const kind = c.duress ? 'duress' : c.alert; // the duress word outweighs any later call
    const flags = [T.alerts[kind] && el('span', 'flag alert', T.alerts[kind]),
      c.needsAnswer && el('span', 'flag answer', T.needsAnswer), c.reminded && el('span', 'flag reminded', T.reminded)];
    const b = el('button', c.tier >= 3 ? 'row urgent' : 'row',
      el('span', 'row-top', tierBadge(c.tier), el('span', 'cid', c.id), count),
      el('span', 'row-lang', c.langName || c.lang, c.interpreter && el('span', 'interp', ' · ' + T.interpreter)),
      el('span', 'row-state', stateText(c) + ' · ', clockNode(c)),
      flags.some(Boolean) && el('span', 'row-flags', ...flags));
    b.type = 'button';
    b.dataset.case = c.id;
    if (c.id === openId) b.setAttribute('aria-current', 'true');
    return el('li', '', b);
  }

  function tierBadge(tier) {
    const n = Math.min(Math.max(Number(tier) || 1, 1), 3);
    return el('span', `tier t${n}`, T.tier(tier), n === 3 && el('strong', 'urgent-word', ' ' + T.urgent));
  }

  function stateText(c) {
    return { waiting: T.waiting, mine: T.mine }[c.state] || T.held(c.holder || '—');
  }

  // clockNode is a case's time waiting (or since its claim), which tick keeps going.
  function clockNode(c) {
    const span = el('span', 'clock');
    span.dataset.from = String((c.state === 'waiting' || !c.since ? c.created : c.since) || 0);
    span.title = c.state === 'waiting' ? T.clockWaiting : T.clockHeld;
    return span;
  }

  function markCurrentRow() {
    for (const row of ui.queue.querySelectorAll('button[data-case]')) {
      if (row.dataset.case === openId) row.setAttribute('aria-current', 'true');
      else row.removeAttribute('aria-current');
    }
  }

  // Up and down arrows move between the rows; Enter (a button's own) opens a case.
  function queueKeys(e) {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const rows = [...ui.queue.querySelectorAll('button[data-case]')];
    const i = rows.indexOf(document.activeElement);
    if (i < 0) return;
    e.preventDefault();
    rows[Math.min(Math.max(i + (e.key === 'ArrowDown' ? 1 : -1), 0), rows.length - 1)].focus();
  }

  // forgetClosed drops the drafts and alert marks of cases no longer on the board.
  function forgetClosed() {
    const open = new Set(board.cases.map((c) => c.id));
    for (const id of [...drafts.keys()]) if (!open.has(id) && !sending.has(id)) drafts.delete(id);
    for (const id of [...alerted.keys()]) if (!open.has(id)) alerted.delete(id);
  }

  // ---- The open case ---------------------------------------------------------------------

  // openCase shows case id: at once its id and an empty view, with the composer hidden (so
  // that nothing can be typed for it before it is there), then what the server says.
  async function openCase(id, byKeyboard) {
    if (id !== openId) {
      openId = id;
      shown = closeFor = null;
      shownEntries = 0;
      auditOpen = false;
      clearCase();
      ui.caseEmpty.hidden = true;
      ui.caseView.hidden = false;
      ui.caseTitle.textContent = T.caseTitle(id);
      ui.transcriptNote.hidden = false;
      ui.transcriptNote.textContent = T.loading;
      markCurrentRow();
    }
    dismissNotice(id);
    if (id === alertCase) dismissAlert();
    await refreshCase();
    if (byKeyboard && openId === id) (ui.composer.hidden ? ui.caseTitle : ui.message).focus();
  }

  // clearCase empties the case view of everything about the case shown before.
  function clearCase() {
    for (const n of [ui.caseTier, ui.caseLang, ui.caseState, ui.packet, ui.auditList]) n.replaceChildren();
    for (const n of [ui.caseInterp, ui.caseAlert, ui.closeAsk, ui.auditBox, ui.transcript]) n.hidden = true;
    ui.transcript.replaceChildren();
    ui.audit.setAttribute('aria-expanded', 'false');
    for (const s of [ui.releaseReason, ui.transferTo, ui.outcome, ui.referral]) s.value = ''; // choices were for that case
    ui.referralBox.hidden = true;
    hideComposer();
  }

  async function refreshCase() {
    const id = openId;
    if (!id || gone) return;
    const seq = ++caseSeq;
    let err = null;
    const data = await api(casePath(id)).catch((e) => void (err = e));
    if (seq !== caseSeq || id !== openId || gone) return;
    if (data) renderCase(data);
    else if (err.status === 404 || err.status === 403) caseGone(id, err.message);
    else fail(err);
  }

  // caseGone shows that the case is closed, or no longer this counsellor's to see.
  function caseGone(id, message) {
    drafts.delete(id);
    openId = '';
    shown = null;
    clearCase();
    ui.caseView.hidden = true;
    ui.caseEmpty.hidden = false;
    ui.caseEmpty.textContent = `${T.caseTitle(id)}: ${message || T.gone}`;
    markCurrentRow();
  }

  function renderCase(data) {
    const c = data.case;
    const fresh = !shown || shown.case.id !== c.id;
    shown = data;
    ui.caseEmpty.hidden = true;
    ui.caseView.hidden = false;
    ui.caseTitle.textContent = T.caseTitle(c.id);
    ui.caseTier.replaceChildren(tierBadge(c.tier));
    ui.caseLang.textContent = langLabel(c);
    ui.caseInterp.hidden = !c.interpreter;
    ui.caseState.textContent = stateText(c);
    const kind = c.duress ? 'duress' : c.alert;
    ui.caseAlert.hidden = !T.alerts[kind];
    ui.caseAlert.textContent = T.alerts[kind] || '';
    if (ui.packet.textContent !== (data.packet || '')) ui.packet.textContent = data.packet || ''; // keeps a selection
    const added = renderTranscript(data.entries || [], c, fresh);
    renderActions(data);
    renderComposer(data);
    // Scrolled when the composer and actions took their room.
    if (fresh) ui.transcript.scrollTop = ui.transcript.scrollHeight;
    else if (added.length) added[added.length - 1].scrollIntoView({ block: 'nearest' });
    if (auditOpen) loadAudit();
  }

  // ---- The transcript --------------------------------------------------------------------

  // renderTranscript adds the entries not shown yet (all of them for a case just opened), and
  // returns the lines it added.
  function renderTranscript(entries, c, fresh) {
    if (fresh || entries.length < shownEntries) {
      ui.transcript.replaceChildren();
      shownEntries = 0;
    }
    const added = entries.slice(shownEntries).map((e) => entryNode(e, c));
    ui.transcript.append(...added);
    shownEntries = entries.length;
    ui.transcript.hidden = entries.length === 0;
    ui.transcriptNote.hidden = entries.length > 0;
    ui.transcriptNote.textContent = c.state === 'waiting' ? T.locked : T.noEntries;
    return added;
  }

  const entryKinds = ['person', 'counsellor', 'note', 'media', 'event'];

  // entryNode is one line: its time, who wrote it, and the words, as text.
  function entryNode(e, c) {
    const kind = entryKinds.includes(e.who) ? e.who : 'event';
    const who = { person: T.person, media: T.person, counsellor: e.by, note: `${T.note} — ${e.by || ''}` }[kind];
    const text = el('div', 'text', e.text || '');
    text.dir = 'auto';
    if (kind === 'person') setLang(text, c.lang);
    return el('div', `entry ${kind}`, el('div', 'meta', e.at && timeNode(e.at), who && ' ', who && el('span', 'by', who)), text);
  }

  // ---- Actions ---------------------------------------------------------------------------

  function renderActions(data) {
    const c = data.case;
    const mine = c.state === 'mine';
    const sup = Boolean(me.supervisor);
    ui.claim.hidden = c.state !== 'waiting';
    ui.releaseBox.hidden = ui.closeBox.hidden = !mine;
    ui.transferBox.hidden = !(mine || sup);
    ui.transfer.textContent = sup ? T.reassign : T.transfer;
    ui.audit.hidden = !sup;
    fillSelect(ui.releaseReason, (data.releaseReasons || []).map((r) => [r.key, r.label]), T.reasonPick);
    fillSelect(ui.outcome, (data.outcomes || []).map((o) => [o.key, o.label]), T.outcomePick);
    fillSelect(ui.referral, (data.referrals || []).map((r) => [r, r]), T.referralPick);
    ui.referralBox.hidden = ui.outcome.value !== 'referred';
    if (!mine || !closeFor || closeFor.id !== c.id) hideClose();
  }

  // fillSelect gives select its options (pairs of value and label) after an empty one that
  // says what to choose, keeping the choice made; an unchanged list is left alone.
  function fillSelect(select, pairs, placeholder) {
    const sig = JSON.stringify([placeholder, pairs]);
    if (select.dataset.sig === sig) return;
    select.dataset.sig = sig;
    const value = select.value;
    select.replaceChildren(...[['', placeholder], ...pairs].map(([v, label]) => {
      const o = el('option', '', label);
      o.value = v;
      return o;
    }));
    select.value = pairs.some(([v]) => v === value) ? value : '';
  }

  function fillColleagues() {
    const pairs = board.colleagues.map((o) => [o.id, o.alias || o.id]);
    fillSelect(ui.transferTo, pairs, pairs.length ? T.colleaguePick : T.nobody);
    ui.transferTo.disabled = ui.transfer.disabled = pairs.length === 0;
  }

  // act POSTs an action about case id, shows its answer and reads the board and case again.
  async function act(id, verb, body, button) {
    if (!id) return false;
    button.disabled = true;
    const ok = answered(await api(casePath(id, verb), body).catch(fail));
    button.disabled = false;
    await Promise.all([refreshBoard(), id === openId && refreshCase()]);
    return ok;
  }

  async function claim() {
    const id = openId;
    if ((await act(id, 'claim', {}, ui.claim)) && openId === id && !ui.composer.hidden) ui.message.focus();
  }

  function release() {
    if (!ui.releaseReason.value) return say(T.chooseReason, false);
    act(openId, 'release', { reason: ui.releaseReason.value }, ui.release);
  }

  function transfer() {
    if (!ui.transferTo.value) return say(T.chooseColleague, false);
    // who held it as shown: if that changed meanwhile, the server refuses and we look again
    const from = shown && shown.case.id === openId ? shown.case.holderId || '' : '';
    act(openId, 'transfer', { to: ui.transferTo.value, from }, ui.transfer);
  }

  // askClose shows the in-page confirm, for the case, outcome and referral chosen now.
  function askClose() {
    const outcome = ui.outcome.value;
    const referral = outcome === 'referred' ? ui.referral.value : '';
    if (!outcome) return say(T.chooseOutcome, false);
    if (outcome === 'referred' && !referral) return say(T.chooseReferral, false);
    closeFor = { id: openId, outcome, referral };
    const label = ui.outcome.selectedOptions[0].textContent + (referral ? ` → ${referral}` : '');
    ui.closeQuestion.textContent = T.closeAsk(openId, label);
    ui.closeAsk.hidden = false;
    ui.closeConfirm.focus();
  }

  function confirmClose() {
    const c = closeFor;
    hideClose();
    if (!c || c.id !== openId) return;
    act(c.id, 'close', c.outcome === 'referred' ? { outcome: c.outcome, referral: c.referral } : { outcome: c.outcome },
      ui.closeConfirm);
  }

  function hideClose() {
    closeFor = null;
    ui.closeAsk.hidden = true;
  }

  function toggleAudit() {
    auditOpen = !auditOpen;
    ui.audit.setAttribute('aria-expanded', String(auditOpen));
    ui.auditBox.hidden = !auditOpen;
    if (auditOpen) loadAudit();
  }

  async function loadAudit() {
    const id = openId;
    const data = await api(casePath(id, 'audit')).catch(fail);
    if (!data || id !== openId) return;
    const lines = (data.events || []).map((e) =>
      el('li', '', timeNode(e.at, true), ' ', el('strong', '', e.event), e.detail && ` — ${e.detail}`));
    ui.auditList.replaceChildren(...(lines.length ? lines : [el('li', 'empty', T.noAudit)]));
  }

  // ---- The composer ----------------------------------------------------------------------
  // The composer is bound to one case (composer.dataset.case), the one its bar names. Each
  // case keeps its own draft; what is sent goes to the bound case and no other.

  function renderComposer(data) {
    const c = data.case;
    if (!data.canWrite) return hideComposer();
    bindComposer(c.id);
    ui.composer.hidden = false;
    ui.composerTo.textContent = T.writingTo(c.id, langLabel(c));
    ui.message.removeAttribute('lang');
    setLang(ui.message, c.lang);
    ui.composerWarn.hidden = !c.duress;
    renderCanned(data.canned || []);
    updateSendState();
  }

  function bindComposer(id) {
    if (ui.composer.dataset.case === id) return;
    ui.composer.dataset.case = id;
    const d = drafts.get(id);
    ui.message.value = d ? d.text : '';
    showGreek(d ? d.greek : []);
  }

  function hideComposer() {
    ui.composer.hidden = true;
    ui.composer.dataset.case = ui.message.value = ui.canned.dataset.sig = '';
    ui.canned.replaceChildren();
    showGreek([]);
  }

  function draftOf(id) {
    if (!drafts.has(id)) drafts.set(id, { text: '', greek: [] });
    return drafts.get(id);
  }

  // typed keeps what is in the text box as the bound case's draft.
  function typed() {
    const id = ui.composer.dataset.case;
    if (!id) return;
    const d = draftOf(id);
    d.text = ui.message.value;
    if (!d.text.trim()) d.greek = [];
    showGreek(d.greek);
    updateSendState();
  }

  function showGreek(greek) {
    ui.cannedGreek.hidden = greek.length === 0;
    ui.cannedGreek.textContent = greek.length ? T.inGreek + greek.join(' / ') : '';
  }

  function renderCanned(canned) {
    const sig = JSON.stringify(canned);
    if (ui.canned.dataset.sig === sig) return;
    ui.canned.dataset.sig = sig;
    ui.canned.replaceChildren(...canned.map((r) => {
      const b = el('button', 'canned-btn', r.greek || r.key);
      b.type = 'button';
      b.title = r.greek || '';
      b.addEventListener('click', () => insertCanned(r));
      return b;
    }));
    ui.canned.hidden = canned.length === 0;
  }

  // insertCanned puts a canned reply, in the person's language, where the cursor is, and
  // its Greek under the text box.
  function insertCanned(r) {
    const id = ui.composer.dataset.case;
    const box = ui.message;
    if (!id || box.readOnly) return;
    const before = box.value.slice(0, box.selectionStart);
    box.setRangeText((before && !/\s$/.test(before) ? ' ' : '') + r.text, box.selectionStart, box.selectionEnd, 'end');
    box.focus();
    draftOf(id).greek.push(r.greek || '');
    typed();
  }

  function updateSendState() {
    const busy = sending.has(ui.composer.dataset.case);
    ui.message.readOnly = busy;
    ui.send.disabled = ui.note.disabled = busy || !ui.message.value.trim();
    ui.sendLabel.textContent = busy ? T.sending : T.sendLabel;
  }

  // submit sends the text box to the case named in the bar, as a message to the person
  // (write) or as an internal note. The text stays until the server took it.
  async function submit(verb) {
    const id = ui.composer.dataset.case;
    const text = ui.message.value;
    if (ui.composer.hidden || !id || id !== openId || sending.has(id) || !text.trim()) return;
    sending.add(id);
    updateSendState();
    const ok = answered(await api(casePath(id, verb), { text: text.trim() }).catch(fail));
    sending.delete(id);
    if (ok && drafts.get(id)?.text === text) drafts.delete(id);
    if (ok && ui.composer.dataset.case === id && ui.message.value === text) {
      ui.message.value = '';
      showGreek([]);
    }
    updateSendState();
    await Promise.all([refreshBoard(), id === openId && refreshCase()]);
  }

  function composerKeys(e) {
    if (e.key !== 'Enter' || !(e.ctrlKey || e.metaKey)) return; // Enter alone: a new line
    e.preventDefault();
    submit('write');
  }

  // ---- Sound, notifications and the tab title --------------------------------------------

  // makeAudio makes the AudioContext at the first click or key: browsers allow sound only
  // after a gesture.
  function makeAudio() {
    if (!audio && window.AudioContext) audio = new AudioContext();
  }

  // tone plays steps of [frequency, seconds] at volume, with soft edges.
  function tone(steps, volume) {
    if (!audio) return;
    if (audio.state === 'suspended') audio.resume();
    let t = audio.currentTime + 0.03;
    for (const [freq, dur] of steps) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(volume, t + 0.02);
      gain.gain.setValueAtTime(volume, t + dur - 0.04);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + dur);
      osc.connect(gain).connect(audio.destination);
      osc.start(t);
      osc.stop(t + dur + 0.02);
      t += dur + 0.06;
    }
  }

  const ring = () => tone([[880, 0.18]], 0.15);
  const alarm = () => tone([[660, 0.25], [990, 0.25], [660, 0.25], [990, 0.25]], 0.5);

  // urgent sounds the alarm, shows a notification without a word of the case, and marks the
  // tab and the page; once per case in 15 seconds.
  function urgent(id) {
    const now = Date.now();
    if (now - (alerted.get(id) || 0) < 15000) return;
    alerted.set(id, now);
    alarm();
    notifyUrgent(id);
    urgentUnacked = true;
    alertCase = id;
    ui.alertCase.textContent = id;
    ui.alertOpen.hidden = !id;
    ui.alert.hidden = false;
    updateTitle();
  }

  function notifyUrgent(id) {
    if (!('Notification' in window) || Notification.permission !== 'granted') return;
    try {
      const n = new Notification('Faros', { body: T.notification, tag: 'faros-' + id, requireInteraction: true });
      n.addEventListener('click', () => {
        window.focus();
        n.close();
        if (id) openCase(id);
      });
      notices.set(id, n);
    } catch (err) { /* notifications only from a service worker here: the sound and the tab remain */ }
  }

  function dismissNotice(id) {
    notices.get(id)?.close();
    notices.delete(id);
  }

  // acknowledge ends the tab's urgent mark: the counsellor is looking. The red bar on the
  // page stays until it is dismissed or its case opened.
  function acknowledge() {
    if (!urgentUnacked) return;
    urgentUnacked = false;
    updateTitle();
  }

  function dismissAlert() {
    acknowledge();
    ui.alert.hidden = true;
  }

  // newUrgentCases raises the alarm for a tier-3 case new on the board since the last read
  // (new, or raised to tier 3), in case its poke was missed.
  function newUrgentCases(prev, next) {
    if (!prev) return;
    const before = new Set(prev.cases.filter((c) => c.tier >= 3).map((c) => c.id));
    for (const c of next.cases) if (c.tier >= 3 && c.state !== 'held' && !before.has(c.id)) urgent(c.id);
  }

  function updateTitle() {
    const n = board && board.attention;
    const base = n > 0 ? `(${n}) Faros` : 'Faros';
    document.title = urgentUnacked && blinkOn ? `⚠ ${base}` : base;
  }

  // tick runs every second: the clocks of the queue, and the blinking title.
  function tick() {
    const now = Date.now() + clockOffset;
    for (const span of ui.queue.querySelectorAll('.clock')) {
      const from = Number(span.dataset.from);
      span.textContent = from ? duration(now - from) : '—';
    }
    blinkOn = urgentUnacked && !blinkOn;
    updateTitle();
  }

  // ---- Live updates ----------------------------------------------------------------------

  function listen() {
    if (gone) return;
    const es = new EventSource('/api/events');
    events = es;
    es.addEventListener('open', () => {
      streamOk = true;
      setConn();
      refreshBoard(); // what changed while the stream was away
      refreshCase();
    });
    es.addEventListener('poke', poked);
    es.addEventListener('bye', signedOut);
    es.addEventListener('error', () => {
      streamOk = false;
      setConn();
      if (es.readyState !== EventSource.CLOSED) return; // the browser tries again by itself
      // Closed for good (a refusal, perhaps a 401): a signed-out session goes to sign-in,
      // anything else tries again.
      events = null;
      api('/api/me').catch(() => {}).finally(() => setTimeout(listen, 5000));
    });
  }

  function poked(ev) {
    let data = {};
    try {
      data = JSON.parse(ev.data) || {};
    } catch (err) { /* a poke all the same */ }
    refreshBoard();
    if (data.ring) refreshNotices();
    if (!data.case || data.case === openId) refreshCase();
    if (data.urgent) urgent(data.case || '');
    else if (data.ring) ring();
  }

  // ---- Idle --------------------------------------------------------------------------------

  // active: a click, a key or a scroll. The counsellor is here: the server is told at most once
  // a minute (the page's own reads never renew the session, so an abandoned desk signs out).
  let pinging = false;
  function active() {
    ui.idle.hidden = true;
    if (pinging || gone || Date.now() - lastActive < 60000) return;
    pinging = true;
    api('/api/alive', {}).catch(() => {}).finally(() => { pinging = false; });
  }

  // idleCheck warns two minutes before the idle limit, loudly: a counsellor waiting for cases
  // must not be signed out unawares.
  function idleCheck() {
    if (!idleMs || gone || !ui.idle.hidden || lastActive + idleMs - Date.now() > 120000) return;
    ui.idle.hidden = false;
    alarm();
    if ('Notification' in window && Notification.permission === 'granted') {
      try {
        new Notification('Faros', { body: T.idleSoon, tag: 'faros-idle' });
      } catch (err) { /* the bar and the sound remain */ }
    }
  }

  // ---- Start -----------------------------------------------------------------------------

  function wire() {
    on(ui.duty, 'click', toggleDuty);
    on(ui.notify, 'click', askNotify);
    on(ui.signout, 'click', signOut);
    on(ui.alertOpen, 'click', () => alertCase && openCase(alertCase, true));
    on(ui.alertOk, 'click', dismissAlert);
    on(ui.idleStay, 'click', active);
    for (const type of ['pointerdown', 'keydown', 'wheel']) document.addEventListener(type, active, { passive: true });
    on(ui.queue, 'click', (e) => {
      const row = e.target.closest('button[data-case]');
      if (row) openCase(row.dataset.case, e.detail === 0); // detail 0: Enter or Space
    });
    on(ui.queue, 'keydown', queueKeys);
    on(ui.claim, 'click', claim);
    on(ui.release, 'click', release);
    on(ui.transfer, 'click', transfer);
    on(ui.close, 'click', askClose);
    on(ui.closeConfirm, 'click', confirmClose);
    on(ui.closeCancel, 'click', () => { hideClose(); ui.close.focus(); });
    on(ui.outcome, 'change', () => { ui.referralBox.hidden = ui.outcome.value !== 'referred'; hideClose(); });
    on(ui.referral, 'change', hideClose);
    on(ui.audit, 'click', toggleAudit);
    on(ui.message, 'input', typed);
    on(ui.message, 'keydown', composerKeys);
    on(ui.composer, 'submit', (e) => { e.preventDefault(); submit('write'); });
    on(ui.note, 'click', () => submit('note'));
    on(document, 'click', () => { makeAudio(); acknowledge(); });
    on(document, 'keydown', makeAudio);
    on(window, 'focus', acknowledge);
  }

  async function start() {
    const m = await api('/api/me').catch(fail);
    if (!m) return void (gone || setTimeout(start, 5000));
    csrf = m.csrf || '';
    me = { id: m.id, alias: m.alias, supervisor: Boolean(m.supervisor), onCall: Boolean(m.onCall) };
    idleMs = (m.idle || 0) * 1000;
    lastActive = Date.now();
    renderMe();
    renderNotify();
    await refreshBoard();
    refreshNotices();
    listen();
    setInterval(tick, 1000);
    setInterval(idleCheck, 5000);
    setInterval(() => { refreshBoard(); refreshCase(); }, 30000); // in case a poke was missed
  }

  wire();
  start();
})();
