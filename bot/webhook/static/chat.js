// The web chat of Faros. The conversation lives only in this page's variables and DOM:
// nothing goes to cookies or browser storage, and a reload starts a new conversation. The
// quick exit (the ✕ button or Esc) empties the page, asks the server to wipe the
// conversation and replaces the page with a neutral site, so that Back does not return here.
'use strict';

(() => {
  const exitURL = document.documentElement.dataset.exitUrl;
  const log = document.getElementById('log');
  const form = document.getElementById('compose');
  const input = document.getElementById('text');
  const status = document.getElementById('status');

  let conversation = newConversation();
  let started = false; // a message got through: the conversation exists on the server
  let listening = null; // the AbortController of the event stream, open or opening
  let retry = 0; // the timer that opens the stream again, or sends /start again

  // What the person sends goes one message at a time, in the order they sent it: a
  // counsellor must read it in that order. Each item is { message, line (the person's words in
  // the log, or null), text (what goes back to the text box if it is not sent), done (told
  // whether it was sent) }.
  const queue = [];
  let sending = false;

  // The batches of later replies (a counsellor's) that the page has shown, by the id the
  // server gives each. The server sends a batch again, on every new stream, until the page
  // names it (or a later one) as "after" in a request; the page shows it once.
  const shownBatches = new Set();
  let lastBatch = ''; // the last one shown: what the next request acknowledges
  let acked = ''; // the last one a message acknowledged: not sent again with every message
  const maxShownBatches = 200; // the server keeps at most the last 100

  // A stream that says nothing for this long died without a word: the server writes a
  // keep-alive every 25 seconds.
  const silence = 70000;
  // A refusal that says when to come back (503 or 429 with Retry-After) is sent again that
  // many seconds later, up to retries times, unless it asks for longer than maxWait.
  const retries = 3;
  const maxWait = 30;

  // newConversation returns 128 random bits in hex: whoever knows the id can read the
  // conversation, so it must not be guessable.
  function newConversation() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function quickExit() {
    const id = conversation;
    conversation = '';
    queue.length = 0;
    stopListening();
    log.replaceChildren();
    input.value = '';
    status.hidden = true;
    if (id) {
      // keepalive: the request goes on after the page is gone, which is at once. It is JSON
      // from this page, as the server requires of every message (a beacon is text/plain).
      fetch('/chat/messages', {
        method: 'POST',
        keepalive: true,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ conversation: id, text: '/wipe' }),
        cache: 'no-store',
      }).catch(() => {});
    }
    location.replace(exitURL);
  }

  // post sends a JSON body from this page, as the server requires, with the conversation's
  // id in the body: never in a URL, which proxies and histories keep.
  function post(path, body, signal) {
    return fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      cache: 'no-store',
      signal,
    });
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  // enqueue sends message after every message before it. shown, the person's words, goes in
  // the log at once, marked pending until the answer comes.
  function enqueue(message, shown, text, done) {
    const line = shown ? addMessage(shown, 'msg me pending') : null;
    queue.push({ message, line, text, done });
    pump();
  }

  // pump sends the queue's messages, one at a time. A message that is not sent takes those
  // after it back too: none may reach the counsellor before it.
  async function pump() {
    if (sending) return;
    sending = true;
    try {
      while (queue.length > 0 && conversation) {
        const item = queue[0];
        const sent = await deliver(item.message);
        if (!conversation) return; // the person left meanwhile
        if (!sent) {
          notSent(queue.splice(0));
          continue;
        }
        queue.shift();
        if (item.line) item.line.classList.remove('pending');
        if (item.done) item.done(true);
      }
    } finally {
      sending = false;
    }
  }

  // deliver posts one message, sends it again when the server asks to wait a moment, and
  // shows the replies. It returns whether the message got through. Every refusal shows the
  // status line, which carries the emergency numbers.
  async function deliver(message) {
    const id = conversation;
    for (let attempt = 0; ; attempt++) {
      let res = null;
      let data = null;
      try {
        const after = lastBatch !== acked ? lastBatch : '';
        res = await post('/chat/messages', { conversation: id, language: navigator.language || '', after, ...message });
        if (res.ok) acked = after || acked;
        data = await res.json();
      } catch (err) {
        data = null;
      }
      if (id !== conversation) return false;
      if (res && res.ok && data) {
        accepted(data);
        return true;
      }
      status.hidden = false;
      if (attempt === 0 && data && Array.isArray(data.replies)) render(data.replies);
      const wait = res ? retryAfter(res) : 0;
      if (!wait || attempt >= retries) return false;
      await sleep(wait * 1000);
      if (id !== conversation) return false;
    }
  }

  // retryAfter is how many seconds a refusal asks the page to wait before it sends again; 0
  // if it does not, or asks for longer than the person should see their words pending.
  function retryAfter(res) {
    if (res.status !== 503 && res.status !== 429) return 0;
    const s = Number(res.headers.get('Retry-After'));
    return Number.isInteger(s) && s > 0 && s <= maxWait ? s : 0;
  }

  // accepted shows the answer to a message that got through.
  function accepted(data) {
    status.hidden = true;
    started = true;
    // Earlier choices belong to earlier questions.
    for (const group of log.querySelectorAll('.choices')) group.remove();
    render(data.replies || []);
    listen(); // the conversation exists now: later messages can come
  }

  // notSent marks items not sent and gives their texts back to the text box, in order, before
  // what the person typed since: nothing they wrote is lost. The status line says so, with
  // the emergency numbers.
  function notSent(items) {
    const texts = [];
    for (const item of items) {
      if (item.line) item.line.classList.replace('pending', 'failed');
      if (item.text) texts.push(item.text);
      if (item.done) item.done(false);
    }
    if (input.value) texts.push(input.value);
    input.value = texts.join(' ');
    status.hidden = false;
  }

  function addMessage(text, className) {
    const div = document.createElement('div');
    div.className = className;
    setText(div, text);
    log.append(div);
    // The message as a whole (the side of an urgent one's bar) goes as its first line.
    div.dir = getComputedStyle(div.firstChild).direction;
    return div;
  }

  // Numbers (with the spaces, dots and dashes of a phone number) and /commands keep their
  // left-to-right order inside right-to-left text: "112" and "/help" in an Urdu line read as
  // they are typed, not "211" or "help/". A left-to-right mark before one (the messages may
  // put one before a command in right-to-left text) goes with it, so that a line that
  // begins with a command still takes its direction from its words.
  const leftToRight = /\u200e?(?:\+?\p{Nd}(?:[\p{Nd} .-]*\p{Nd})?|(?<![\p{L}\p{N}_/])\/[\p{L}\p{N}_]+)/gu;

  // setText puts text in el as text, never markup: each line in a block of its own with
  // dir="auto", so that it runs in the direction of its first letter outside the runs of
  // leftToRight, which each go in a <bdi> (a question in six languages has its Urdu line
  // right to left, the others left to right). No language is named here.
  function setText(el, text) {
    el.replaceChildren(...text.split('\n').map((line) => {
      const span = document.createElement('span');
      span.className = 'line';
      span.dir = 'auto';
      let end = 0;
      for (const m of line.matchAll(leftToRight)) {
        const bdi = document.createElement('bdi');
        bdi.dir = 'ltr';
        bdi.textContent = m[0];
        span.append(line.slice(end, m.index), bdi); // strings become text nodes
        end = m.index + m[0].length;
      }
      span.append(line.slice(end));
      if (!line) span.append(document.createElement('br')); // an empty line keeps its height
      return span;
    }));
  }

  // render shows replies, with a button for each choice.
  function render(replies) {
    let first = null;
    for (const r of replies) {
      const div = addMessage(r.text, r.urgent ? 'msg bot urgent' : 'msg bot');
      if (r.lang) div.lang = r.lang; // for the fonts and a screen reader's voice
      first = first || div;
      if (!r.choices || r.choices.length === 0) continue;
      const group = document.createElement('div');
      group.className = 'choices';
      group.setAttribute('role', 'group');
      for (const c of r.choices) {
        const button = document.createElement('button');
        button.type = 'button';
        button.dataset.choice = c.id; // "question/choice": what the button answers
        setText(button, c.label);
        button.addEventListener('click', () => choose(group, c));
        group.append(button);
      }
      log.append(group);
    }
    // Long replies are read from their start, not their end.
    if (first) first.scrollIntoView({ block: 'start' });
  }

  function choose(group, c) {
    const buttons = group.querySelectorAll('button');
    for (const b of buttons) b.disabled = true;
    enqueue({ choice: c.id }, c.label, '', (sent) => {
      if (sent) focusNext();
      else for (const b of buttons) b.disabled = false;
    });
  }

  // focusNext puts keyboard focus on the new question's first answer, or else the text box.
  function focusNext() {
    (log.querySelector('.choices button') || input).focus();
  }

  // listen opens the conversation's event stream, unless one is open, for the messages that
  // answer nothing the person sent (a counsellor's). A stream that drops is opened again
  // after 3 seconds, one the server refused (it is full or busy: 503, 429) after 10; for a
  // conversation the server no longer has (404) the next message that gets through opens it.
  async function listen() {
    if (listening || !conversation) return;
    clearTimeout(retry);
    const id = conversation;
    const controller = new AbortController();
    listening = controller;
    let delay = 3000;
    try {
      const res = await post('/chat/events', { conversation: id, after: lastBatch }, controller.signal);
      if (res.status === 404) delay = 0;
      else if (!res.ok || !res.body) delay = 10000;
      else await readEvents(res.body.getReader(), controller);
    } catch (err) {
      // The connection dropped, or the page ended it.
    }
    if (listening !== controller) return; // the quick exit, or the page was hidden
    listening = null;
    if (delay && id === conversation) retry = setTimeout(listen, delay);
  }

  function stopListening() {
    clearTimeout(retry);
    const controller = listening;
    listening = null;
    if (controller) controller.abort();
  }

  // readEvents reads Server-Sent Events from a stream until it ends, and shows the replies
  // they carry. A stream silent for too long is ended, to be opened again.
  async function readEvents(reader, controller) {
    const decoder = new TextDecoder();
    let buffer = '';
    let watchdog = setTimeout(() => controller.abort(), silence);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        clearTimeout(watchdog);
        watchdog = setTimeout(() => controller.abort(), silence);
        buffer += decoder.decode(value, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          dispatch(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } finally {
      clearTimeout(watchdog);
    }
  }

  // dispatch shows the replies of one event, unless its batch was shown before; comments
  // (the keep-alives) and other events are skipped.
  function dispatch(frame) {
    let name = 'message';
    let id = '';
    const data = [];
    for (const line of frame.split('\n')) {
      if (line.startsWith('event:')) name = line.slice(6).trim();
      else if (line.startsWith('id:')) id = line.slice(3).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (name !== 'replies' || data.length === 0 || !conversation) return;
    if (id && shownBatches.has(id)) return;
    render(JSON.parse(data.join('\n')).replies || []);
    if (id) shown(id);
  }

  // shown remembers that batch id is on the page.
  function shown(id) {
    shownBatches.add(id);
    if (shownBatches.size > maxShownBatches) shownBatches.delete(shownBatches.values().next().value);
    lastBatch = id;
  }

  // start sends the flows' first message until it gets through (the server may be busy for
  // a moment), unless the person's own message started the conversation first.
  function start() {
    if (started || !conversation) return;
    enqueue({ text: '/start' }, null, '', (sent) => {
      if (sent) focusNext();
      else if (conversation && !started) retry = setTimeout(start, 5000);
    });
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    enqueue({ text }, text, text);
  });
  document.getElementById('exit').addEventListener('click', quickExit);
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      quickExit();
    }
  });
  window.addEventListener('pagehide', stopListening);
  window.addEventListener('pageshow', (e) => {
    if (!e.persisted) return; // back from the browser's page cache: go on where it was
    if (started) listen();
    else start();
  });

  if (navigator.language) document.documentElement.lang = navigator.language;
  // The flows open with the language question and the safety check.
  start();
})();
