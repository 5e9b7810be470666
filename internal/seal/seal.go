// Package seal encrypts small values for Redis with AES-256-GCM: a copy of Redis alone reads
// nothing of what is sealed.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
)

// ErrOpen means a box was not sealed with this key and label, or was changed since.
var ErrOpen = errors.New("seal: the data cannot be read with this key")

// AEAD returns AES-GCM with a 32-byte key.
func AEAD(key []byte) cipher.AEAD {
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

// Seal encrypts data behind a random nonce; label (what the data is) is authenticated with
// it, so that one value cannot be passed off as another.
func Seal(a cipher.AEAD, data []byte, label string) []byte {
	nonce := make([]byte, a.NonceSize(), a.NonceSize()+len(data)+a.Overhead())
	_, _ = rand.Read(nonce)
	return a.Seal(nonce, nonce, data, []byte(label))
}

// Open decrypts what Seal made with the same key and label.
func Open(a cipher.AEAD, box []byte, label string) ([]byte, error) {
	if len(box) < a.NonceSize() {
		return nil, ErrOpen
	}
	out, err := a.Open(nil, box[:a.NonceSize()], box[a.NonceSize():], []byte(label))
	if err != nil {
		return nil, ErrOpen
	}
	return out, nil
}
