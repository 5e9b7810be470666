package handoff

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
)

// A case's packet, address and relayed messages are sealed with the case's own key. That key
// is stored wrapped by the service's key, so a copy of Redis alone reads nothing; closing the
// case deletes it, and whatever copy of the data remains can never be read again.

// keyring wraps and unwraps case keys with a key derived from the service's secret.
type keyring struct{ aead cipher.AEAD }

func newKeyring(secret []byte) keyring {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("faros case keys v1"))
	return keyring{aead: gcm(m.Sum(nil))}
}

func (k keyring) wrap(caseKey []byte, caseID string) []byte { return sealWith(k.aead, caseKey, caseID) }

func (k keyring) unwrap(box []byte, caseID string) ([]byte, error) {
	return openWith(k.aead, box, caseID)
}

func gcm(key []byte) cipher.AEAD {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // only a key of the wrong size: a bug
	}
	a, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return a
}

func newCaseKey() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return k
}

// seal encrypts data with a case key; label (what the data is) is authenticated with it, so
// that one field cannot be passed off as another.
func seal(caseKey, data []byte, label string) []byte { return sealWith(gcm(caseKey), data, label) }

func open(caseKey, box []byte, label string) ([]byte, error) {
	return openWith(gcm(caseKey), box, label)
}

func sealWith(a cipher.AEAD, data []byte, label string) []byte {
	nonce := make([]byte, a.NonceSize(), a.NonceSize()+len(data)+a.Overhead())
	_, _ = rand.Read(nonce)
	return a.Seal(nonce, nonce, data, []byte(label))
}

var errSealed = errors.New("handoff: the data cannot be read with this key")

func openWith(a cipher.AEAD, box []byte, label string) ([]byte, error) {
	if len(box) < a.NonceSize() {
		return nil, errSealed
	}
	out, err := a.Open(nil, box[:a.NonceSize()], box[a.NonceSize():], []byte(label))
	if err != nil {
		return nil, errSealed
	}
	return out, nil
}
