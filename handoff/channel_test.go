package handoff_test

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faros-project/faros/bot"
	"github.com/faros-project/faros/handoff"
	"github.com/faros-project/faros/handoff/roster"
	"github.com/faros-project/faros/internal/redistest"
	"github.com/faros-project/faros/locales"
)

// people records the messages that the router gives to people.
type people struct {
	mu  sync.Mutex
	got []bot.Message
}

func (p *people) Handle(_ context.Context, m bot.Message) ([]bot.Reply, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.got = append(p.got, m)
	return nil, nil
}

// Operators are recognised and reached by their roster address, whatever its channel: an
// operator on a second channel, here "desk-test" (a stand-in for a desk in the browser), gets
// the packet, claims, reads the person, replies, and closes, and the case's messages are
// deleted from their chat, through that channel only. The same chat id on another channel is
// somebody else, and no log line or Redis key holds an operator's address.
func TestAnOperatorOnASecondChannel(t *testing.T) {
	const deskChat = "desk-op2:session" // not a number, and with a colon: any channel's chat id
	ros, err := roster.New(nil, []roster.Operator{
		{ID: "op1", Address: roster.Address{Channel: roster.Telegram, ID: "501"}, Languages: []string{"el"},
			Alias: map[string]string{"el": "Σύμβουλος 1"}},
		{ID: "op2", Address: roster.Address{Channel: "desk-test", ID: deskChat}, Languages: []string{"el", "fr"},
			Alias: map[string]string{"el": "Σύμβουλος 2", "fr": "Conseillère 2"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := locales.Load(locales.Files)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	tg, web := &inbox{}, &inbox{} // the operators' chats on Telegram and on the desk
	f := &fixture{r: redistest.New(t), ops: tg, ppl: &inbox{}, convs: &goTo{},
		now: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC), rosterPtr: ros}
	d, err := handoff.New(handoff.Config{
		Redis: f.r.Client, Prefix: f.r.Prefix, Secret: []byte("desk test secret"),
		Roster:    func() *roster.Roster { return f.rosterPtr },
		Operators: map[string]handoff.Phones{roster.Telegram: tg, "desk-test": web},
		People:    map[string]bot.Sender{"telegram": f.ppl}, Conversations: f.convs,
		Catalog: func() *locales.Catalog { return cat }, Idle: 50 * time.Millisecond,
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:    func() time.Time { return f.now },
	})
	if err != nil {
		t.Fatal(err)
	}
	f.desk = d
	tg.sent, web.sent = sentOn(d, roster.Telegram), sentOn(d, "desk-test")
	ppl := &people{}
	route := d.Route(ppl)
	// at is a message from chat on channel, its replies landing in that chat as the channel
	// would put them there.
	at := func(channel, chat string, m bot.Message) string {
		t.Helper()
		m.Channel, m.ChatID = channel, chat
		replies, err := route.Handle(context.Background(), m)
		if err != nil {
			t.Fatal(err)
		}
		if phones := map[string]*inbox{roster.Telegram: tg, "desk-test": web}[channel]; phones != nil && len(replies) > 0 {
			_ = phones.Send(context.Background(), chat, replies)
		}
		return texts(replies)
	}

	// Nobody has a shift: both go on duty, each on their own channel.
	for _, op := range []struct{ channel, chat string }{{roster.Telegram, "501"}, {"desk-test", deskChat}} {
		if out := at(op.channel, op.chat, bot.Message{Text: "/duty on"}); !strings.Contains(out, "εφημερία") {
			t.Fatalf("/duty on from %s: %q", op.channel, out)
		}
	}
	if got := d.OnDuty(context.Background(), "fr"); got != 1 {
		t.Errorf("OnDuty(fr) = %d; want 1, the desk's operator", got)
	}

	// The case goes to the one who speaks French, on the desk.
	id := f.open(t, "9301", "fr", 1)
	consume(t, f, d, func() bool { return strings.Contains(web.last(deskChat).Text, id) }) // not the reply to /duty on
	if p := web.last(deskChat); !strings.Contains(p.Text, id) || len(p.Buttons) != 1 || p.Buttons[0].Data != "claim:"+id {
		t.Fatalf("the packet on the desk: %+v", p)
	}
	if got := tg.texts("501"); strings.Contains(got, id) {
		t.Errorf("the Telegram operator, who speaks no French, was told at first: %q", got)
	}

	// The same chat id on another channel is not the operator: it is a person's message.
	at(roster.Telegram, deskChat, bot.Message{Button: "claim:" + id})
	at("desk-test", "501", bot.Message{Text: "/claim " + id})
	if len(ppl.got) != 2 {
		t.Errorf("messages from the operators' chat ids on the wrong channels: %d reached the flows; want 2", len(ppl.got))
	}

	// Claim, relay both ways, by a reply and by words to the only case.
	if out := at("desk-test", deskChat, bot.Message{Button: "claim:" + id}); !strings.Contains(out, "Ανέλαβες") {
		t.Fatalf("claim from the desk: %q", out)
	}
	if got := f.ppl.last("9301").Text; !strings.Contains(got, "Conseillère 2") {
		t.Errorf("the person was told %q; want the alias of who claimed", got)
	}
	f.relay(t, id, bot.Message{Text: "j'ai peur"}, "")
	if got := web.last(deskChat); got.Text != "["+id+"] j'ai peur" || !got.Ring {
		t.Errorf("person → desk: %+v", got)
	}
	heard := web.idOf(deskChat, "j'ai peur")
	if out := at("desk-test", deskChat, bot.Message{Text: "Êtes-vous en sécurité ?", ReplyTo: heard, MsgID: "w1"}); out != "" {
		t.Errorf("a reply from the desk answered %q", out)
	}
	if got := f.ppl.last("9301").Text; got != "Conseillère 2:\nÊtes-vous en sécurité ?" {
		t.Errorf("desk → person, by a reply: %q", got)
	}
	at("desk-test", deskChat, bot.Message{Text: "Je suis là.", MsgID: "w2"})
	if got := f.ppl.last("9301").Text; got != "Conseillère 2:\nJe suis là." {
		t.Errorf("desk → person, words to the only case: %q", got)
	}

	// A person's photo is copied only within a channel: from Telegram to the desk it is not
	// copied, and both sides are told.
	replies := f.relay(t, id, bot.Message{Media: "photo", MsgID: "77"}, "")
	if len(tg.copies)+len(web.copies) != 0 || len(replies) != 1 || !strings.Contains(web.last(deskChat).Text, "📎") {
		t.Errorf("media across channels: copies %v %v, person told %v, desk told %q", tg.copies, web.copies, replies, web.last(deskChat).Text)
	}

	// The close deletes the case's messages from the desk's chat, the operator's words too.
	at("desk-test", deskChat, bot.Message{Text: "/close " + id + " other"})
	if out := at("desk-test", deskChat, bot.Message{Button: "closeok:" + id + ":other"}); !strings.Contains(out, "Έκλεισε") {
		t.Fatalf("close from the desk: %q", out)
	}
	d.Wait()
	web.mu.Lock()
	deleted := web.deleted[deskChat]
	web.mu.Unlock()
	for _, m := range []string{heard, "w1", "w2"} {
		if !slices.Contains(deleted, m) {
			t.Errorf("message %s stays in the desk's chat (deleted %v)", m, deleted)
		}
	}
	if len(tg.deleted) != 0 {
		t.Errorf("deleted on Telegram: %v; want nothing", tg.deleted)
	}

	keys, err := f.r.Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if strings.Contains(k, "desk-op2") || strings.Contains(k, "9301") {
			t.Errorf("key %s holds a chat id", k)
		}
	}
	if strings.Contains(logs.String(), "desk-op2") || strings.Contains(logs.String(), "9301") {
		t.Errorf("the log holds a chat id:\n%s", logs.String())
	}
}

// An operator on a channel the desk has no Phones for is reached by nothing: the others on
// call are told all the same.
func TestAnOperatorOnAChannelWithoutPhones(t *testing.T) {
	ros, err := roster.New(nil, []roster.Operator{
		{ID: "op1", Address: roster.Address{Channel: roster.Telegram, ID: "501"}, Languages: []string{"fr"}},
		{ID: "op2", Address: roster.Address{Channel: "nowhere", ID: "x"}, Languages: []string{"fr"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	f := setup(t)
	f.rosterPtr = ros
	for _, chat := range []struct{ channel, id string }{{roster.Telegram, "501"}, {"nowhere", "x"}} {
		if _, err := f.desk.Route(nobody{t}).Handle(context.Background(), bot.Message{Channel: chat.channel, ChatID: chat.id, Text: "/duty on"}); err != nil {
			t.Fatal(err)
		}
	}
	id := f.open(t, "9302", "fr", 1)
	consume(t, f, f.desk, func() bool { return f.ops.last("501").Text != "" })
	if got := f.ops.last("501"); !strings.Contains(got.Text, id) {
		t.Errorf("the reachable operator was not told: %q", got.Text)
	}
}
