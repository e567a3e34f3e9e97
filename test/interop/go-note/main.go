// An independent check of modelsign's notes and witness cosignatures with Go's own
// golang.org/x/mod/sumdb/note (Debian's golang-golang-x-mod-dev, built in GOPATH mode). x/mod
// knows only Ed25519 note signatures (0x01); the C2SP cosignature/v1 type (0x04) is added here
// as a note.Verifier and a note.Signer of about twenty lines each, which is how
// transparency-dev/formats extends it.
//
//	go-note open VKEY... < note        prints one "verified NAME" line per verified signature
//	go-note cosign NAME SEEDHEX TIME < note   prints the note with an Ed25519 cosignature added
package main

import (
	"bufio"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

func keyHash(name string, typ byte, key []byte) uint32 {
	h := sha256.New()
	h.Write([]byte(name + "\n"))
	h.Write([]byte{typ})
	h.Write(key)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

func cosignedMessage(t uint64, msg []byte) []byte {
	return append([]byte(fmt.Sprintf("cosignature/v1\ntime %d\n", t)), msg...)
}

type cosigVerifier struct {
	name string
	key  ed25519.PublicKey
}

func (v cosigVerifier) Name() string    { return v.name }
func (v cosigVerifier) KeyHash() uint32 { return keyHash(v.name, 0x04, v.key) }
func (v cosigVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	return ed25519.Verify(v.key, cosignedMessage(binary.BigEndian.Uint64(sig[:8]), msg), sig[8:])
}

type cosigSigner struct {
	name string
	key  ed25519.PrivateKey
	time uint64
}

func (s cosigSigner) Name() string    { return s.name }
func (s cosigSigner) KeyHash() uint32 { return keyHash(s.name, 0x04, s.key.Public().(ed25519.PublicKey)) }
func (s cosigSigner) Sign(msg []byte) ([]byte, error) {
	out := make([]byte, 8, 8+ed25519.SignatureSize)
	binary.BigEndian.PutUint64(out, s.time)
	return append(out, ed25519.Sign(s.key, cosignedMessage(s.time, msg))...), nil
}

// verifierFor reads a vkey: type 0x01 through x/mod itself, 0x04 as a cosignature verifier.
func verifierFor(vkey string) (note.Verifier, error) {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		return nil, errors.New("malformed vkey")
	}
	data, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(data) != 33 {
		return nil, errors.New("malformed vkey key")
	}
	switch data[0] {
	case 0x01:
		return note.NewVerifier(vkey)
	case 0x04:
		return cosigVerifier{parts[0], ed25519.PublicKey(data[1:])}, nil
	}
	return nil, fmt.Errorf("vkey type %d", data[0])
}

func main() {
	msg, err := io.ReadAll(bufio.NewReader(os.Stdin))
	if err != nil || len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: go-note open VKEY... | cosign NAME SEEDHEX TIME")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "open":
		var vs []note.Verifier
		for _, k := range os.Args[2:] {
			v, err := verifierFor(k)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			vs = append(vs, v)
		}
		n, err := note.Open(msg, note.VerifierList(vs...))
		if err != nil {
			fmt.Fprintln(os.Stderr, "open:", err)
			os.Exit(1)
		}
		for _, s := range n.Sigs {
			fmt.Printf("verified %s %08x\n", s.Name, s.Hash)
		}
		fmt.Printf("unverified %d\n", len(n.UnverifiedSigs))
	case "cosign":
		seed, err := hex.DecodeString(os.Args[3])
		t, err2 := strconv.ParseUint(os.Args[4], 10, 64)
		if err != nil || err2 != nil || len(seed) != ed25519.SeedSize {
			os.Exit(2)
		}
		// Open without verifying anything (every line unknown), then sign the text again with the cosigner.
		n, err := note.Open(msg, note.VerifierList())
		var unverified *note.UnverifiedNoteError
		if errors.As(err, &unverified) {
			n = unverified.Note
		} else if err != nil {
			fmt.Fprintln(os.Stderr, "open:", err)
			os.Exit(1)
		}
		out, err := note.Sign(&note.Note{Text: n.Text, Sigs: n.UnverifiedSigs}, cosigSigner{os.Args[2], ed25519.NewKeyFromSeed(seed), t})
		if err != nil {
			fmt.Fprintln(os.Stderr, "sign:", err)
			os.Exit(1)
		}
		os.Stdout.Write(out)
	default:
		os.Exit(2)
	}
}
