// An independent reader of modelsign's log as C2SP tlog-tiles, on Go's own tree code
// (golang.org/x/mod/sumdb/tlog and sumdb/note, Debian's golang-golang-x-mod-dev, GOPATH mode):
//
//	go-tiles check URL VKEY          verify the checkpoint with sumdb/note, read every hash tile
//	                                 through tlog.TileHashReader (which checks each tile against
//	                                 the signed root), and check every entry bundle's entries
//	                                 hash, as SHA-256(0x00||entry), to the level-0 hashes
//	go-tiles proofs URL VKEY COUNT SEED
//	                                 rebuild COUNT random inclusion and consistency proofs with
//	                                 tlog.ProveRecord and tlog.ProveTree over the served tiles,
//	                                 compare them byte for byte with /proofs/*, and check the
//	                                 service's proofs with tlog.CheckRecord and tlog.CheckTree
//
// URL is the tiles prefix (…/v1/log). sumdb names a tile tile/8/L/N; tlog-tiles names it
// tile/L/N (and its data tiles tile/entries/N), the mapping torchwood uses too. The checkpoint
// body is C2SP's (origin, size, base64 root), not sumdb's, so it is parsed here.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

var base string

func fetch(path string) ([]byte, error) {
	resp, err := http.Get(base + "/" + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	return body, nil
}

// tiles reads hash tiles over HTTP under tlog-tiles names, each once (TileHashReader checks a
// tile against the signed root when it first reads it, and hands SaveTiles only those it checked).
type tiles struct {
	fetched int
	saved   map[string][]byte
}

func (t *tiles) Height() int { return 8 }
func (t *tiles) ReadTiles(ts []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(ts))
	for i, tile := range ts {
		path := strings.Replace(tile.Path(), "tile/8/", "tile/", 1)
		if data, ok := t.saved[path]; ok {
			out[i] = data
			continue
		}
		data, err := fetch(path)
		if err != nil {
			return nil, err
		}
		out[i] = data
		t.fetched++
	}
	return out, nil
}
func (t *tiles) SaveTiles(ts []tlog.Tile, data [][]byte) {
	for i, tile := range ts {
		t.saved[strings.Replace(tile.Path(), "tile/8/", "tile/", 1)] = data[i]
	}
}

func openCheckpoint(vkey string) (tlog.Tree, string) {
	verifier, err := note.NewVerifier(vkey)
	must(err)
	raw, err := fetch("checkpoint")
	must(err)
	n, err := note.Open(raw, note.VerifierList(verifier))
	must(err)
	lines := strings.SplitN(n.Text, "\n", 4)
	if len(lines) < 4 {
		fail("checkpoint body is not origin, size, root")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	must(err)
	root, err := base64.StdEncoding.DecodeString(lines[2])
	must(err)
	if len(root) != tlog.HashSize || lines[0] != verifier.Name() {
		fail("checkpoint root or origin is wrong")
	}
	var h tlog.Hash
	copy(h[:], root)
	return tlog.Tree{N: size, Hash: h}, lines[0]
}

func check(tree tlog.Tree) {
	tr := &tiles{saved: map[string][]byte{}}
	reader := tlog.TileHashReader(tree, tr)
	root, err := tlog.TreeHash(tree.N, reader)
	must(err)
	if root != tree.Hash {
		fail("the tiles' root is not the checkpoint's")
	}
	bundles := 0
	for start := int64(0); start < tree.N; start += 256 {
		width := tree.N - start
		if width > 256 {
			width = 256
		}
		path := "tile/entries/" + strings.TrimPrefix(tlog.Tile{H: 8, L: 0, N: start / 256, W: int(width)}.Path(), "tile/8/0/")
		data, err := fetch(path)
		must(err)
		indexes := make([]int64, width)
		for i := range indexes {
			indexes[i] = tlog.StoredHashIndex(0, start+int64(i))
		}
		hashes, err := reader.ReadHashes(indexes)
		must(err)
		for i := int64(0); i < width; i++ {
			if len(data) < 2 {
				fail(fmt.Sprintf("%s: entry %d is missing", path, start+i))
			}
			n := int(binary.BigEndian.Uint16(data))
			if len(data) < 2+n {
				fail(fmt.Sprintf("%s: entry %d is cut short", path, start+i))
			}
			if tlog.RecordHash(data[2:2+n]) != hashes[i] {
				fail(fmt.Sprintf("%s: entry %d does not hash to its level-0 hash", path, start+i))
			}
			data = data[2+n:]
		}
		if len(data) != 0 {
			fail(fmt.Sprintf("%s: bytes after the last entry", path))
		}
		bundles++
	}
	fmt.Printf("checked tree %d: %d hash tiles read, %d entry bundles\n", tree.N, tr.fetched, bundles)
}

type proofAnswer struct {
	Hashes   []string `json:"hashes"`
	RootHash string   `json:"rootHash"`
}

func served(path string) ([]tlog.Hash, error) {
	body, err := fetch(path)
	if err != nil {
		return nil, err
	}
	var a proofAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return nil, err
	}
	out := make([]tlog.Hash, len(a.Hashes))
	for i, s := range a.Hashes {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b) != tlog.HashSize {
			return nil, errors.New("a proof hash is not base64 of 32 bytes")
		}
		copy(out[i][:], b)
	}
	return out, nil
}

func same(a, b []tlog.Hash) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i][:], b[i][:]) {
			return false
		}
	}
	return true
}

func proofs(tree tlog.Tree, count int, seed int64) {
	reader := tlog.TileHashReader(tree, &tiles{saved: map[string][]byte{}})
	rng := rand.New(rand.NewSource(seed))
	for k := 0; k < count; k++ {
		t := 1 + rng.Int63n(tree.N)
		i := rng.Int63n(t)
		ours, err := tlog.ProveRecord(t, i, reader)
		must(err)
		theirs, err := served(fmt.Sprintf("proofs/inclusion?index=%d&treeSize=%d", i, t))
		must(err)
		if !same(ours, theirs) {
			fail(fmt.Sprintf("inclusion proof of %d in %d differs", i, t))
		}
		th, err := tlog.TreeHash(t, reader)
		must(err)
		leaf, err := reader.ReadHashes([]int64{tlog.StoredHashIndex(0, i)})
		must(err)
		if err := tlog.CheckRecord(tlog.RecordProof(theirs), t, th, i, leaf[0]); err != nil {
			fail(fmt.Sprintf("CheckRecord refused the service's proof of %d in %d: %v", i, t, err))
		}
		n := 1 + rng.Int63n(t)
		ourTree, err := tlog.ProveTree(t, n, reader)
		must(err)
		theirTree, err := served(fmt.Sprintf("proofs/consistency?from=%d&to=%d", n, t))
		must(err)
		if !same(ourTree, theirTree) {
			fail(fmt.Sprintf("consistency proof %d -> %d differs", n, t))
		}
		nh, err := tlog.TreeHash(n, reader)
		must(err)
		if err := tlog.CheckTree(tlog.TreeProof(theirTree), t, th, n, nh); err != nil {
			fail(fmt.Sprintf("CheckTree refused the service's proof %d -> %d: %v", n, t, err))
		}
	}
	fmt.Printf("%d inclusion and %d consistency proofs equal x/mod's and pass its checks\n", count, count)
}

func must(err error) {
	if err != nil {
		fail(err.Error())
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, msg)
	os.Exit(1)
}

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: go-tiles check URL VKEY | proofs URL VKEY COUNT SEED")
		os.Exit(2)
	}
	base = strings.TrimSuffix(os.Args[2], "/")
	tree, _ := openCheckpoint(os.Args[3])
	switch os.Args[1] {
	case "check":
		check(tree)
	case "proofs":
		count, err := strconv.Atoi(os.Args[4])
		must(err)
		seed, err := strconv.ParseInt(os.Args[5], 10, 64)
		must(err)
		proofs(tree, count, seed)
	default:
		os.Exit(2)
	}
}
