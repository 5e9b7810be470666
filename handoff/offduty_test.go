package handoff_test

import (
	"strings"
	"testing"
)

// An operator off call sees and claims only the cases sent to them: someone who finds the
// phone of a counsellor off duty reads no new case. The backup (op3, 503) is off call; op1
// (501) goes off duty after one case was sent to them.
func TestOffDutySeesOnlyCasesSentToThem(t *testing.T) {
	f := setup(t)
	sent := f.open(t, "9101", "el", 1)
	consume(t, f, f.desk, func() bool { return strings.Contains(f.ops.last("501").Text, sent) })

	if out := f.operator(t, 503, "/cases", ""); strings.Contains(out, sent) {
		t.Errorf("/cases of a backup off call lists a case not sent to them:\n%s", out)
	}
	if out := f.operator(t, 503, "/claim "+sent, ""); !strings.Contains(out, "off duty") {
		t.Errorf("/claim by a backup off call, of a case not sent to them: %q; want refused", out)
	}

	f.operator(t, 501, "/duty off", "")
	later := f.open(t, "9102", "el", 1)
	consume(t, f, f.desk, func() bool { return strings.Contains(f.ops.last("502").Text, later) })
	out := f.operator(t, 501, "/cases", "")
	if !strings.Contains(out, sent) || strings.Contains(out, later) {
		t.Errorf("/cases off duty:\n%s\nwant %s (sent to them before) and not %s (opened after)", out, sent, later)
	}
	if out := f.operator(t, 501, "/claim "+later, ""); !strings.Contains(out, "off duty") {
		t.Errorf("/claim off duty of a case opened after: %q; want refused", out)
	}
	if out := f.operator(t, 501, "/claim "+sent, ""); !strings.Contains(out, "["+sent+"] Ανέλαβες την υπόθεση") {
		t.Errorf("/claim off duty of a case sent to them: %q; want it claimed", out)
	}
	if out := f.operator(t, 502, "/claim "+later, ""); !strings.Contains(out, "["+later+"] Ανέλαβες την υπόθεση") {
		t.Errorf("/claim on call: %q", out)
	}
}
