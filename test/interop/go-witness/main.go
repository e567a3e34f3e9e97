// An independent check of what modelsign sends its witnesses, with Go's own
// golang.org/x/mod/sumdb/note and sumdb/tlog (Debian's golang-golang-x-mod-dev, GOPATH mode):
// each add-checkpoint request's note must be signed by the log's key, and its consistency proof
// must prove, by x/mod's tlog.CheckTree, that the tree of the request's `old` size (whose root the
// test gives from the log's own checkpoint of that size) is a prefix of the new one.
//
//	go-witness LOGVKEY < requests     one request per record: "root <base64 root at old size>\n",
//	                                  then the body, then a line "--" (records end with "--\n")
//
// Prints "checked N" (N requests with a proof) and exits 1 on the first one that fails.
package main

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

func hashOf(b64 string) tlog.Hash {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) != tlog.HashSize {
		fail("bad hash %q", b64)
	}
	var h tlog.Hash
	copy(h[:], raw)
	return h
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go-witness LOGVKEY < requests")
		os.Exit(2)
	}
	verifier, err := note.NewVerifier(os.Args[1])
	if err != nil {
		fail("vkey: %v", err)
	}
	all, err := io.ReadAll(bufio.NewReader(os.Stdin))
	if err != nil {
		fail("read: %v", err)
	}
	checked := 0
	for _, record := range strings.Split(string(all), "\n--\n") {
		if strings.TrimSpace(record) == "" {
			continue
		}
		head, body, ok := strings.Cut(record, "\n")
		if !ok || !strings.HasPrefix(head, "root ") {
			fail("record without its root line")
		}
		oldRoot := hashOf(strings.TrimPrefix(head, "root "))
		// The add-checkpoint body: "old N", proof lines, a blank line, the note.
		top, signed, ok := strings.Cut(body, "\n\n")
		if !ok {
			fail("body without a blank line")
		}
		lines := strings.Split(top, "\n")
		old, err := strconv.ParseInt(strings.TrimPrefix(lines[0], "old "), 10, 64)
		if err != nil || !strings.HasPrefix(lines[0], "old ") {
			fail("bad old line %q", lines[0])
		}
		n, err := note.Open([]byte(signed), note.VerifierList(verifier))
		if err != nil {
			fail("the note is not signed by the log key: %v", err)
		}
		text := strings.Split(n.Text, "\n")
		size, err := strconv.ParseInt(text[1], 10, 64)
		if err != nil {
			fail("bad size %q", text[1])
		}
		root := hashOf(text[2])
		proof := make(tlog.TreeProof, 0, len(lines)-1)
		for _, l := range lines[1:] {
			proof = append(proof, hashOf(l))
		}
		if old == 0 || old == size {
			if len(proof) != 0 {
				fail("a proof from size %d to %d must be empty", old, size)
			}
			continue
		}
		if err := tlog.CheckTree(proof, size, root, old, oldRoot); err != nil {
			fail("x/mod refuses the consistency proof from %d to %d: %v", old, size, err)
		}
		checked++
	}
	fmt.Printf("checked %d\n", checked)
}
