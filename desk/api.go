package desk

// The JSON API the desk's page calls. Every handler acts as the signed-in operator of the
// roster in force, through the handoff desk's own checks; errors become statuses in one place.

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/faros-project/faros/desk/auth"
	"github.com/faros-project/faros/handoff"
	"github.com/faros-project/faros/handoff/roster"
)

// apiFunc answers one API request of operator o with a value to write as JSON, or an error.
type apiFunc func(r *http.Request, o roster.Operator) (any, error)

// apiError is an error the counsellor is shown as it is, with its status.
type apiError struct {
	status int
	msg    string
}

func (e apiError) Error() string { return e.msg }

var (
	errNotFound  = apiError{http.StatusNotFound, "Η υπόθεση δεν υπάρχει ή δεν είναι για σένα. · No such case for you."}
	errBadInput  = apiError{http.StatusBadRequest, "Το αίτημα δεν διαβάζεται. · The request cannot be read."}
	errTooLong   = apiError{http.StatusRequestEntityTooLarge, "Το μήνυμα είναι πολύ μεγάλο (έως 4.000 χαρακτήρες)· χώρισέ το. · Too long (4,000 characters at most): split it."}
	errSignedOut = apiError{http.StatusUnauthorized, "Δεν είσαι πια συνδεδεμένος/η. · You are signed out."}
)

// maxText is the most a counsellor writes in one message: Telegram's 4,096, less the alias.
const maxText = 4000

// api runs h for the session's operator and writes its answer; an error is logged once, and
// the counsellor reads what went wrong (a technical one, in general words).
func (s *Server) api(h apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, _ := auth.From(r.Context())
		var out any
		o, ok := s.cfg.Desk.Operator(sess.Operator)
		err := error(errSignedOut)
		if ok {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			out, err = h(r, o)
		}
		w.Header().Set("Content-Type", "application/json")
		var ae apiError
		switch {
		case err == nil:
		case errors.As(err, &ae):
			w.WriteHeader(ae.status)
			out = map[string]string{"error": ae.msg}
		case errors.Is(err, handoff.ErrNotVisible):
			w.WriteHeader(errNotFound.status)
			out = map[string]string{"error": errNotFound.msg}
		default:
			s.log.Error("desk: a request failed", "operator", o.ID, "path", r.Pattern, "err", err)
			w.WriteHeader(http.StatusInternalServerError)
			out = map[string]string{"error": "⚠ Τεχνικό πρόβλημα: δεν έγινε. Δοκίμασε ξανά σε λίγο. · Technical problem: it did not go through. Try again shortly."}
		}
		_ = json.NewEncoder(w).Encode(out)
	})
}

func (s *Server) me(r *http.Request, o roster.Operator) (any, error) {
	sess, _ := auth.From(r.Context())
	return map[string]any{"id": o.ID, "alias": o.AliasIn("el"), "supervisor": o.Supervisor,
		"onCall": s.cfg.Desk.OnCallNow(r.Context(), o), "csrf": sess.CSRF, "idle": int(s.cfg.Auth.Idle().Seconds())}, nil
}

// alive answers the page's "the counsellor is here" (a click, a key): the POST itself renews
// the session's idle timer.
func (s *Server) alive(*http.Request, roster.Operator) (any, error) {
	return map[string]any{"ok": true}, nil
}

// summary is a case on the board, as the page reads it.
type summary struct {
	ID          string `json:"id"`
	Tier        int    `json:"tier"`
	Lang        string `json:"lang"`
	LangName    string `json:"langName"`
	Interpreter bool   `json:"interpreter"`
	State       string `json:"state"`
	Holder      string `json:"holder"`
	HolderID    string `json:"holderId"`
	Since       int64  `json:"since"`
	Created     int64  `json:"created"`
	Waiting     int    `json:"waiting"`
	NeedsAnswer bool   `json:"needsAnswer"`
	Alert       string `json:"alert"`
	AlertAt     int64  `json:"alertAt"`
	Reminded    bool   `json:"reminded"`
	Duress      bool   `json:"duress"`
}

func summaryOf(c handoff.Summary) summary {
	return summary{ID: c.ID, Tier: c.Tier, Lang: c.Lang, LangName: c.LangName, Interpreter: c.Interpreter,
		State: c.State, Holder: c.Holder, HolderID: c.HolderID, Since: ms(c.Claimed), Created: ms(c.Created), Waiting: c.Waiting,
		NeedsAnswer: c.NeedsAnswer, Alert: c.Alert, AlertAt: ms(c.AlertAt), Reminded: c.Reminded, Duress: c.Duress}
}

// ms is t in Unix milliseconds, 0 for the zero time.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

type named struct {
	ID    string `json:"id,omitempty"`
	Key   string `json:"key,omitempty"`
	Alias string `json:"alias,omitempty"`
	Label string `json:"label,omitempty"`
}

func (s *Server) board(r *http.Request, o roster.Operator) (any, error) {
	b, err := s.cfg.Desk.Board(r.Context(), o)
	if err != nil {
		return nil, err
	}
	cases := make([]summary, 0, len(b.Cases))
	for _, c := range b.Cases {
		cases = append(cases, summaryOf(c))
	}
	colleagues := make([]named, 0, len(b.Colleagues))
	for _, c := range b.Colleagues {
		colleagues = append(colleagues, named{ID: c.ID, Alias: c.AliasIn("el")})
	}
	return map[string]any{"now": time.Now().UnixMilli(), "cases": cases, "colleagues": colleagues, "attention": b.Attention,
		"onCall": s.cfg.Desk.OnCallNow(r.Context(), o)}, nil
}

// cannedKeys are the canned replies, each a message of the locale files (desk_reply_KEY).
var cannedKeys = []string{"greeting", "safe_now", "numbers", "interpreter", "closing"}

func (s *Server) viewCase(r *http.Request, o roster.Operator) (any, error) {
	id, err := caseID(r)
	if err != nil {
		return nil, err
	}
	v, err := s.cfg.Desk.ViewCase(r.Context(), o, id)
	if err != nil {
		return nil, err
	}
	type line struct {
		Who  string `json:"who"`
		At   int64  `json:"at"`
		By   string `json:"by,omitempty"`
		Text string `json:"text"`
	}
	lines := make([]line, 0, len(v.Lines))
	for _, l := range v.Lines {
		lines = append(lines, line{l.Who, ms(l.At), l.By, l.Text})
	}
	type canned struct {
		Key   string `json:"key"`
		Text  string `json:"text"`
		Greek string `json:"greek"`
	}
	var replies []canned
	cat := s.cfg.Catalog()
	for _, k := range cannedKeys {
		if v.Summary.Duress && (k == "safe_now" || k == "closing") {
			continue // someone may be reading: no question about them, no goodbye out of nowhere
		}
		text, ok := cat.Text(v.Summary.Lang, "desk_reply_"+k)
		greek, okEl := cat.Text("el", "desk_reply_"+k)
		if v.CanWrite && ok && okEl {
			replies = append(replies, canned{k, text, greek})
		}
	}
	var outcomes, reasons []named
	for _, oc := range handoff.Outcomes() {
		outcomes = append(outcomes, named{Key: oc.Key, Label: oc.Label})
	}
	for _, rr := range handoff.ReleaseReasons {
		reasons = append(reasons, named{Key: rr.Key, Label: rr.Label})
	}
	return map[string]any{"case": summaryOf(v.Summary), "packet": v.Packet, "entries": lines, "canned": replies,
		"outcomes": outcomes, "referrals": s.cfg.Desk.Referrals(), "releaseReasons": reasons, "canWrite": v.CanWrite}, nil
}

func (s *Server) audit(r *http.Request, o roster.Operator) (any, error) {
	id, err := caseID(r)
	if err != nil {
		return nil, err
	}
	trail, err := s.cfg.Desk.AuditTrail(r.Context(), o, id)
	if err != nil {
		return nil, err
	}
	type event struct {
		At     int64  `json:"at"`
		Event  string `json:"event"`
		Detail string `json:"detail"`
	}
	events := make([]event, 0, len(trail))
	for _, e := range trail {
		var detail []string
		for _, f := range e.Fields {
			if f.Value != "" {
				detail = append(detail, f.Key+"="+f.Value)
			}
		}
		events = append(events, event{ms(e.At), e.Event, strings.Join(detail, " ")})
	}
	return map[string]any{"events": events}, nil
}

// act does one action on a case: claim, write, note, release, transfer, close.
func (s *Server) act(r *http.Request, o roster.Operator) (any, error) {
	id, err := caseID(r)
	if err != nil {
		return nil, err
	}
	var in struct {
		Text, Reason, To, From, Outcome, Referral string
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		return nil, errBadInput
	}
	if utf8.RuneCountInString(in.Text) > maxText {
		return nil, errTooLong
	}
	ctx, d := r.Context(), s.cfg.Desk
	var res handoff.Result
	switch r.PathValue("action") {
	case "claim":
		res, err = d.Claim(ctx, o, id)
	case "write":
		res, err = d.Write(ctx, o, id, in.Text)
	case "note":
		res, err = d.Note(ctx, o, id, in.Text)
	case "release":
		res, err = d.Release(ctx, o, id, in.Reason)
	case "transfer":
		res, err = d.Transfer(ctx, o, id, in.To, in.From)
	case "close":
		res, err = d.Close(ctx, o, id, in.Outcome, in.Referral)
	default:
		return nil, apiError{http.StatusNotFound, "Άγνωστη ενέργεια. · Unknown action."}
	}
	if err != nil {
		return nil, err
	}
	return map[string]any{"ok": res.OK, "message": res.Message}, nil
}

// notices are what Faros told a counsellor of the desk only, newest first, for an hour.
func (s *Server) notices(r *http.Request, o roster.Operator) (any, error) {
	list, err := s.cfg.Phones.Notices(r.Context(), o.ID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"notices": list}, nil
}

func (s *Server) duty(r *http.Request, o roster.Operator) (any, error) {
	var in struct{ On bool }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		return nil, errBadInput
	}
	res, err := s.cfg.Desk.SetDuty(r.Context(), o, in.On)
	if err != nil {
		return nil, err
	}
	return map[string]any{"ok": res.OK, "message": res.Message}, nil
}

// caseID is the request's case id, read as an operator may type it.
func caseID(r *http.Request) (string, error) {
	id, err := handoff.ParseCaseID(r.PathValue("id"))
	if err != nil {
		return "", errNotFound
	}
	return id, nil
}
