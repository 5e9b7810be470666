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

  // A stream that says nothing for this long died without a word: the server writes a
  // keep-alive every 25 seconds.
  const silence = 70000;

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

  // busy tells a refusal that says "try again later": the server is full (503) or this
  // network started many conversations lately (429).
  function busy(code) {
    return code === 503 || code === 429;
  }

  // send posts one message and shows the person's words (shown) and the replies. It returns
  // whether the message was delivered and, if not, the answer's status (0: no answer). A
  // message not delivered leaves the "not sent" line on screen, and the caller leaves the
  // person's words in the text box: nothing they wrote is lost.
  async function send(message, shown) {
    const id = conversation;
    if (!id) return { sent: false, code: 0 };
    let data = null;
    let code = 0;
    try {
      const res = await post('/chat/messages', { conversation: id, language: navigator.language || '', ...message });
      code = res.status;
      if (res.ok) data = await res.json();
    } catch (err) {
      data = null;
    }
    if (id !== conversation) return { sent: false, code }; // the person left meanwhile
    if (!data) {
      status.hidden = false;
      return { sent: false, code };
    }
    status.hidden = true;
    started = true;
    // Earlier choices belong to earlier questions.
    for (const group of log.querySelectorAll('.choices')) group.remove();
    if (shown) addMessage(shown, 'msg me');
    render(data.replies || []);
    listen(); // the conversation exists now: later messages can come
    return { sent: true, code };
  }

  function addMessage(text, className) {
    const div = document.createElement('div');
    div.className = className;
    div.textContent = text; // replies are text, never markup
    log.append(div);
    return div;
  }

  // render shows replies, with a button for each choice.
  function render(replies) {
    let first = null;
    for (const r of replies) {
      const div = addMessage(r.text, r.urgent ? 'msg bot urgent' : 'msg bot');
      first = first || div;
      if (!r.choices || r.choices.length === 0) continue;
      const group = document.createElement('div');
      group.className = 'choices';
      group.setAttribute('role', 'group');
      for (const c of r.choices) {
        const button = document.createElement('button');
        button.type = 'button';
        button.textContent = c.label;
        button.addEventListener('click', () => choose(group, c));
        group.append(button);
      }
      log.append(group);
    }
    // Long replies are read from their start, not their end.
    if (first) first.scrollIntoView({ block: 'start' });
  }

  async function choose(group, c) {
    const buttons = group.querySelectorAll('button');
    for (const b of buttons) b.disabled = true;
    if ((await send({ choice: c.id }, c.label)).sent) {
      focusNext();
    } else {
      for (const b of buttons) b.disabled = false;
    }
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
      const res = await post('/chat/events', { conversation: id }, controller.signal);
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

  // dispatch shows the replies of one event; comments (the keep-alives) and other events
  // are skipped.
  function dispatch(frame) {
    let name = 'message';
    const data = [];
    for (const line of frame.split('\n')) {
      if (line.startsWith('event:')) name = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (name !== 'replies' || data.length === 0 || !conversation) return;
    render(JSON.parse(data.join('\n')).replies || []);
  }

  // start sends the flows' first message until it gets through (the server may be busy for
  // a moment), unless the person's own message started the conversation first.
  async function start() {
    if (started) return;
    const { sent, code } = await send({ text: '/start' });
    if (sent) {
      focusNext();
    } else if (conversation && !started) {
      retry = setTimeout(start, busy(code) ? 10000 : 3000);
    }
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    if (!(await send({ text }, text)).sent && conversation) {
      input.value = input.value ? `${text} ${input.value}` : text; // and what they typed since
    }
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
