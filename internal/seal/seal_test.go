package seal_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/faros-project/faros/internal/seal"
)

func TestSealOpensOnlyWithItsKeyAndLabel(t *testing.T) {
	key, other := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	data := []byte("Are you safe now?")
	box := seal.Seal(seal.AEAD(key), data, "reply")
	if bytes.Contains(box, data) {
		t.Fatal("the box holds the data in clear")
	}
	if again := seal.Seal(seal.AEAD(key), data, "reply"); bytes.Equal(again, box) {
		t.Error("two seals of the same data are equal: the nonce is not random")
	}
	if got, err := seal.Open(seal.AEAD(key), box, "reply"); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Open = %q, %v; want the data", got, err)
	}
	tampered := bytes.Clone(box)
	tampered[len(tampered)-1] ^= 1
	for name, open := range map[string]func() ([]byte, error){
		"another key":   func() ([]byte, error) { return seal.Open(seal.AEAD(other), box, "reply") },
		"another label": func() ([]byte, error) { return seal.Open(seal.AEAD(key), box, "log") },
		"a changed box": func() ([]byte, error) { return seal.Open(seal.AEAD(key), tampered, "reply") },
		"a short box":   func() ([]byte, error) { return seal.Open(seal.AEAD(key), box[:5], "reply") },
	} {
		if got, err := open(); !errors.Is(err, seal.ErrOpen) || got != nil {
			t.Errorf("%s: Open = %q, %v; want ErrOpen", name, got, err)
		}
	}
}
