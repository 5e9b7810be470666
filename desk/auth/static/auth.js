// Faros desk: the sign-in (/signin) and enrolment (/enrol) pages. No library, nothing stored
// in the browser: the only state is the session cookie the server sets (HttpOnly, so not
// readable here). Every request is a JSON POST to this origin; every refusal comes back as
// {"error": "Greek · English"} and is shown in #status.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const status = $("status");
  const busyText = "Περιμένετε… · Please wait…";
  const failText = "Κάτι πήγε στραβά. Δοκιμάστε ξανά σε λίγο. · Something went wrong. Please try again in a moment.";

  function say(text, kind) {
    status.textContent = text;
    status.className = kind || "";
  }

  // --- base64url, by hand: WebAuthn speaks ArrayBuffers, the server base64url strings.
  function fromB64url(s) {
    const b64 = s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4);
    const bin = atob(b64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function toB64url(buf) {
    const bytes = new Uint8Array(buf);
    let bin = "";
    for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // post sends body as JSON (a string is sent as it is) and returns the answer, or throws
  // an Error whose message is the server's words.
  async function post(path, body) {
    let r;
    try {
      r = await fetch(path, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: typeof body === "string" ? body : JSON.stringify(body),
        credentials: "same-origin",
        cache: "no-store",
      });
    } catch (e) {
      throw new Error("Δεν υπάρχει σύνδεση με τον διακομιστή. · Cannot reach the server.");
    }
    let data = {};
    try { data = await r.json(); } catch (e) { /* not JSON */ }
    if (!r.ok) throw new Error(data.error || failText);
    return data;
  }

  function passkeysSupported() {
    return !!(window.PublicKeyCredential && navigator.credentials);
  }

  // What navigator.credentials does when the person cancels or the time runs out.
  function webauthnError(e) {
    if (e && (e.name === "NotAllowedError" || e.name === "AbortError")) {
      return "Ακυρώθηκε ή τελείωσε ο χρόνος. Δοκιμάστε ξανά. · Cancelled or timed out. Please try again.";
    }
    if (e && e.name === "InvalidStateError") {
      return "Αυτό το κλειδί είναι ήδη καταχωρημένο. · This passkey is already registered.";
    }
    return (e && e.message && e.message.indexOf(" · ") > 0) ? e.message :
      "Το κλειδί πρόσβασης δεν λειτούργησε. · The passkey did not work.";
  }

  function creationOptions(o) {
    const pk = Object.assign({}, o.publicKey);
    pk.challenge = fromB64url(pk.challenge);
    pk.user = Object.assign({}, pk.user, { id: fromB64url(pk.user.id) });
    if (pk.excludeCredentials) {
      pk.excludeCredentials = pk.excludeCredentials.map((c) => Object.assign({}, c, { id: fromB64url(c.id) }));
    }
    return { publicKey: pk };
  }

  function requestOptions(o) {
    const pk = Object.assign({}, o.publicKey);
    pk.challenge = fromB64url(pk.challenge);
    if (pk.allowCredentials) {
      pk.allowCredentials = pk.allowCredentials.map((c) => Object.assign({}, c, { id: fromB64url(c.id) }));
    }
    return { publicKey: pk };
  }

  function credentialJSON(c) {
    const r = c.response;
    const out = {
      id: c.id,
      rawId: toB64url(c.rawId),
      type: c.type,
      authenticatorAttachment: c.authenticatorAttachment || undefined,
      clientExtensionResults: c.getClientExtensionResults ? c.getClientExtensionResults() : {},
      response: { clientDataJSON: toB64url(r.clientDataJSON) },
    };
    if (r.attestationObject) { // a new passkey
      out.response.attestationObject = toB64url(r.attestationObject);
      if (r.getTransports) out.response.transports = r.getTransports();
    } else { // a sign-in
      out.response.authenticatorData = toB64url(r.authenticatorData);
      out.response.signature = toB64url(r.signature);
      if (r.userHandle) out.response.userHandle = toB64url(r.userHandle);
    }
    return JSON.stringify(out);
  }

  function done() {
    say("Έτοιμο. · Done.", "ok");
    location.replace("/");
  }

  // Buttons are disabled while a request is out, so a double click sends once.
  function busy(on) {
    document.querySelectorAll("button").forEach((b) => { b.disabled = on; });
    if (on) say(busyText);
  }

  async function run(task) {
    busy(true);
    try {
      await task();
    } catch (e) {
      say(e.message || failText, "error");
    } finally {
      busy(false);
    }
  }

  // --- /signin
  function signin() {
    const id = $("id");
    id.focus();
    if (!passkeysSupported()) {
      $("passkey").disabled = true;
      $("passkey").title = "Αυτός ο φυλλομετρητής δεν υποστηρίζει κλειδιά πρόσβασης. · This browser does not support passkeys.";
    }
    $("passkey").addEventListener("click", () => run(async () => {
      if (!id.value.trim()) throw new Error("Γράψτε το όνομα χρήστη σας. · Please type your id.");
      const options = await post("/auth/passkey/begin", { id: id.value.trim() });
      let cred;
      try {
        cred = await navigator.credentials.get(requestOptions(options));
      } catch (e) {
        throw new Error(webauthnError(e));
      }
      await post("/auth/passkey/finish", credentialJSON(cred));
      done();
    }));
    $("signin-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      run(async () => {
        if (!id.value.trim()) throw new Error("Γράψτε το όνομα χρήστη σας. · Please type your id.");
        const code = $("code").value.replace(/\s/g, "");
        if (!/^[0-9]{6}$/.test(code)) throw new Error("Ο κωδικός μιας χρήσης έχει 6 ψηφία. · The one-time code has 6 digits.");
        try {
          await post("/auth/password", { id: id.value.trim(), password: $("password").value, code: code });
        } finally {
          $("code").value = ""; // a code is good once
        }
        $("password").value = "";
        done();
      });
    });
  }

  // --- /enrol#TOKEN
  function enrol() {
    const token = location.hash.slice(1);
    // The token leaves the address bar and the history at once; it lives in this page only.
    history.replaceState(null, "", location.pathname);
    if (!token) {
      say("Ανοίξτε τον σύνδεσμο εγγραφής που σας έδωσε ο υπεύθυνος. · Open the enrolment link your supervisor gave you.", "error");
      document.querySelectorAll("button").forEach((b) => { b.disabled = true; });
      return;
    }
    post("/auth/enrol/check", { token: token }).then((who) => {
      $("who").textContent = "Εγγραφή για: " + (who.alias || who.id) + " · Enrolment for: " + (who.alias || who.id);
    }, (e) => {
      say(e.message, "error");
      document.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    });
    if (!passkeysSupported()) {
      $("enrol-passkey").disabled = true;
      $("enrol-passkey").title = "Αυτός ο φυλλομετρητής δεν υποστηρίζει κλειδιά πρόσβασης. · This browser does not support passkeys.";
    }
    $("enrol-passkey").addEventListener("click", () => run(async () => {
      const options = await post("/auth/enrol/passkey/begin", { token: token });
      let cred;
      try {
        cred = await navigator.credentials.create(creationOptions(options));
      } catch (e) {
        throw new Error(webauthnError(e));
      }
      await post("/auth/enrol/passkey/finish", credentialJSON(cred));
      done();
    }));
    $("totp-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      run(async () => {
        const password = $("new-password").value;
        if ([...password].length < 12) {
          throw new Error("Ο κωδικός χρειάζεται τουλάχιστον 12 χαρακτήρες. · The password needs at least 12 characters.");
        }
        const got = await post("/auth/enrol/totp/begin", { token: token, password: password });
        $("totp-qr").src = got.qr;
        $("totp-secret").textContent = got.secret.replace(/(.{4})/g, "$1 ").trim();
        $("totp-step").hidden = false;
        $("new-password").readOnly = true;
        $("totp-code").focus();
        say("Σαρώστε τον κωδικό και γράψτε τον κωδικό μιας χρήσης. · Scan the code and type the one-time code.");
      });
    });
    $("confirm-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      run(async () => {
        const code = $("totp-code").value.replace(/\s/g, "");
        if (!/^[0-9]{6}$/.test(code)) throw new Error("Ο κωδικός μιας χρήσης έχει 6 ψηφία. · The one-time code has 6 digits.");
        try {
          await post("/auth/enrol/totp/finish", { code: code });
        } finally {
          $("totp-code").value = "";
        }
        $("new-password").value = "";
        done();
      });
    });
  }

  switch (document.body.dataset.page) {
    case "signin": signin(); break;
    case "enrol": enrol(); break;
  }
})();
