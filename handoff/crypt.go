package handoff

import (
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"

	"github.com/faros-project/faros/internal/seal"
)

// A case's packet, address and relayed messages are sealed with the case's own key. That key
// is stored wrapped by the service's key, so a copy of Redis alone reads nothing; closing the
// case deletes it, and whatever copy of the data remains can never be read again.

// keyring wraps and unwraps case keys with a key derived from the service's secret.
type keyring struct{ aead cipher.AEAD }

func newKeyring(secret []byte) keyring {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("faros case keys v1"))
	return keyring{aead: seal.AEAD(m.Sum(nil))}
}

func (k keyring) wrap(caseKey []byte, caseID string) []byte {
	return seal.Seal(k.aead, caseKey, caseID)
}

func (k keyring) unwrap(box []byte, caseID string) ([]byte, error) {
	return seal.Open(k.aead, box, caseID)
}

func newCaseKey() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return k
}

// sealData encrypts data with a case key; label (what the data is) is authenticated with it,
// so that one field cannot be passed off as another.
func sealData(caseKey, data []byte, label string) []byte {
	return seal.Seal(seal.AEAD(caseKey), data, label)
}

func openData(caseKey, box []byte, label string) ([]byte, error) {
	return seal.Open(seal.AEAD(caseKey), box, label)
}

var errSealed = seal.ErrOpen
