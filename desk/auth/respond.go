package auth

// What a browser is told. Every refusal is JSON {"error": "Greek · English"} with a fitting
// status; nothing in it tells whether an id exists.

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"
)

// The words of refusals, Greek first.
const (
	msgBadRequest = "Το αίτημα δεν είναι σωστό. Ανανεώστε τη σελίδα. · The request is not valid. Please reload the page."
	msgNotJSON    = "Το αίτημα πρέπει να έρθει από τη σελίδα του γραφείου. · The request must come from the desk's page."
	msgOrigin     = "Το αίτημα δεν ήρθε από τη σελίδα του γραφείου. · The request did not come from the desk's page."
	msgTooLarge   = "Το αίτημα είναι πολύ μεγάλο. · The request is too large."
	msgServer     = "Κάτι πήγε στραβά. Δοκιμάστε ξανά σε λίγο. · Something went wrong. Please try again in a moment."
	msgSignedOut  = "Έχετε αποσυνδεθεί. Συνδεθείτε ξανά. · You are signed out. Please sign in again."
	msgCSRF       = "Το αίτημα απορρίφθηκε. Ανανεώστε τη σελίδα. · The request was refused. Please reload the page."
	msgNoID       = "Γράψτε το όνομα χρήστη σας. · Please type your id."
	msgSignin     = "Το όνομα χρήστη, ο κωδικός ή ο κωδικός μιας χρήσης δεν ταιριάζουν. Αν μόλις χρησιμοποιήσατε έναν κωδικό μιας χρήσης, περιμένετε τον επόμενο. · The id, password or one-time code do not match. If you have just used a one-time code, wait for the next one."
	msgPasskey    = "Η σύνδεση με κλειδί πρόσβασης δεν έγινε. Ελέγξτε το όνομα χρήστη και δοκιμάστε ξανά. · Signing in with a passkey did not work. Check your id and try again."
	msgCeremony   = "Πέρασε πολλή ώρα ή η σελίδα άνοιξε αλλού. Ξεκινήστε ξανά. · Too much time passed, or the page was opened elsewhere. Please start again."
	msgInvite     = "Ο σύνδεσμος εγγραφής δεν ισχύει πια: έληξε ή χρησιμοποιήθηκε ήδη. Ζητήστε νέο από τον υπεύθυνο. · This enrolment link no longer works: it expired or was already used. Ask your supervisor for a new one."
	msgEnrolKey   = "Η εγγραφή του κλειδιού πρόσβασης δεν έγινε. Δοκιμάστε ξανά ή διαλέξτε κωδικό. · The passkey could not be registered. Try again, or choose a password."
	msgEnrolCode  = "Ο κωδικός μιας χρήσης δεν ταιριάζει. Ελέγξτε ότι η ώρα του κινητού είναι σωστή και γράψτε τον επόμενο κωδικό. · The one-time code does not match. Check that your phone's clock is right and type the next code."
	msgPwShort    = "Ο κωδικός χρειάζεται τουλάχιστον 12 χαρακτήρες. Μια φράση με λίγες λέξεις θυμάται εύκολα. · The password needs at least 12 characters. A phrase of a few words is easy to remember."
	msgPwLong     = "Ο κωδικός είναι πολύ μεγάλος: έως 128 χαρακτήρες. · The password is too long: at most 128 characters."
	msgBusy       = "Ο διακομιστής είναι απασχολημένος. Δοκιμάστε ξανά σε λίγα δευτερόλεπτα. · The server is busy. Please try again in a few seconds."
	msgCloned     = "Αυτό το κλειδί πρόσβασης δεν γίνεται πια δεκτό. Ζητήστε νέο σύνδεσμο εγγραφής από τον υπεύθυνο. · This passkey is no longer accepted. Ask your supervisor for a new enrolment link."
	msgPwCommon   = "Αυτός ο κωδικός είναι πολύ κοινός ή επαναλαμβανόμενος και μαντεύεται εύκολα. Διαλέξτε μια φράση με λίγες λέξεις. · This password is too common or repetitive and easy to guess. Choose a phrase of a few words."
)

// lockedMessage says when to try again, in minutes: the server does not know the browser's
// time zone.
func lockedMessage(wait time.Duration) string {
	m := max(1, int((wait+time.Minute-1)/time.Minute))
	return fmt.Sprintf("Πάρα πολλές αποτυχημένες προσπάθειες. Δοκιμάστε ξανά σε %d λεπτά. · Too many failed attempts. Try again in %d minutes.", m, m)
}

// busyMessage asks to wait a few seconds: too many sign-in requests came at once.
func busyMessage(wait time.Duration) string {
	s := max(1, int((wait+time.Second-1)/time.Second))
	return fmt.Sprintf("Πολλά αιτήματα αυτή τη στιγμή. Δοκιμάστε ξανά σε %d δευτερόλεπτα. · Too many requests right now. Please try again in %d seconds.", s, s)
}

// problem is a refusal to send to the browser.
type problem struct {
	status int
	msg    string
	retry  time.Duration // for 429: also a Retry-After header
}

func (p *problem) Error() string { return fmt.Sprintf("%d %s", p.status, p.msg) }

func refuse(status int, msg string) error { return &problem{status: status, msg: msg} }

// writeJSON answers v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// okBody is the answer of a ceremony that signed the browser in.
var okBody = map[string]bool{"ok": true}

// pre guards the ceremonies, which run before there is a session and so before there is a
// CSRF token: a request must be JSON (a form on another site cannot send that without a
// preflight, which this server never grants) and carry the desk's own Origin (browsers send it
// with every POST). Then the flood limits (floods.go). Bodies are small.
func (a *Auth) pre(h func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, msgNotJSON)
			return
		}
		if !a.sameOrigin(r, true) {
			writeError(w, http.StatusForbidden, msgOrigin)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		err := a.admit(r)
		if err == nil {
			err = h(w, r)
		}
		var p *problem
		var tooBig *http.MaxBytesError
		switch {
		case err == nil:
		case errors.As(err, &p):
			if p.retry > 0 {
				w.Header().Set("Retry-After", fmt.Sprint(int((p.retry+time.Second-1)/time.Second)))
			}
			writeError(w, p.status, p.msg)
		case errors.As(err, &tooBig):
			writeError(w, http.StatusRequestEntityTooLarge, msgTooLarge)
		default:
			// Errors here come from Redis or the system, never carry what was typed.
			a.log.Error("desk sign-in: failed", "route", r.URL.Path, "err", err)
			writeError(w, http.StatusServiceUnavailable, msgServer)
		}
	}
}

// sameOrigin reports whether r's Origin header is the desk's; without one, whether absent is
// allowed (the pre-session ceremonies require it).
func (a *Auth) sameOrigin(r *http.Request, required bool) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return !required
	}
	return strings.EqualFold(o, a.origin)
}

// decode reads a small JSON body into v.
func decode(r *http.Request, v any) error {
	d := json.NewDecoder(r.Body)
	if err := d.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		return refuse(http.StatusBadRequest, msgBadRequest)
	}
	return nil
}
