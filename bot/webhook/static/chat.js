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
  let events = null;

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
    if (events) {
      events.close();
      events = null;
    }
    log.replaceChildren();
    input.value = '';
    status.hidden = true;
    if (id) {
      // A beacon is sent even though the page goes away at once.
      navigator.sendBeacon('/chat/messages', JSON.stringify({ conversation: id, text: '/wipe' }));
    }
    location.replace(exitURL);
  }

  // send posts one message and shows the person's words (shown) and the replies. It returns
  // whether the message was delivered.
  async function send(message, shown) {
    const id = conversation;
    if (!id) return false;
    let data;
    try {
      const res = await fetch('/chat/messages', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ conversation: id, language: navigator.language || '', ...message }),
        cache: 'no-store',
      });
      if (!res.ok) throw new Error(`status ${res.status}`);
      data = await res.json();
    } catch (err) {
      if (id === conversation) status.hidden = false;
      return false;
    }
    if (id !== conversation) return false; // the person left meanwhile
    status.hidden = true;
    // Earlier choices belong to earlier questions.
    for (const group of log.querySelectorAll('.choices')) group.remove();
    if (shown) addMessage(shown, 'msg me');
    render(data.replies || []);
    return true;
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
    if (await send({ choice: c.id }, c.label)) {
      focusNext();
    } else {
      for (const b of buttons) b.disabled = false;
    }
  }

  // focusNext puts keyboard focus on the new question's first answer, or else the text box.
  function focusNext() {
    (log.querySelector('.choices button') || input).focus();
  }

  function listen() {
    events = new EventSource(`/chat/events?conversation=${conversation}`);
    events.addEventListener('replies', (e) => {
      const data = JSON.parse(e.data);
      render(data.replies || []);
    });
    // A refused stream (the server is full) is not retried by the browser: try again later.
    const mine = events;
    events.addEventListener('error', () => {
      if (mine.readyState !== EventSource.CLOSED) return;
      setTimeout(() => {
        if (events === mine && conversation) listen();
      }, 10000);
    });
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    if (!(await send({ text }, text)) && conversation) input.value = text;
  });
  document.getElementById('exit').addEventListener('click', quickExit);
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      quickExit();
    }
  });
  window.addEventListener('pagehide', () => {
    if (events) events.close();
  });

  if (navigator.language) document.documentElement.lang = navigator.language;
  listen();
  // The flows open with the language question and the safety check.
  send({ text: '/start' }).then((ok) => {
    if (ok) focusNext();
  });
})();
