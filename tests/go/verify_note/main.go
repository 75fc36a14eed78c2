// Command verify_note checks a checkpoint signed by receipts/note.py, and optionally an
// inclusion and a consistency proof made by receipts/merkle.py, with Go's reference
// implementations golang.org/x/mod/sumdb/note (Open) and golang.org/x/mod/sumdb/tlog
// (CheckRecord, CheckTree). It exists so the tests can show the Python code is
// interoperable, not only self-consistent.
//
// Usage:
//
//	verify_note VKEY < input.json
//
// where input.json is
//
//	{"note": "<signed checkpoint>",
//	 "inclusion":   {"index": 3, "leaf_hash": "<base64>", "proof": ["<base64>", ...]},
//	 "consistency": {"size": 5, "root": "<base64>", "proof": ["<base64>", ...]}}
//
// (both proofs optional). It prints a JSON summary and exits 0 when everything verifies,
// 1 with the reason on stderr otherwise.
//
// Build with Debian's packages: GO111MODULE=off GOPATH=/usr/share/gocode go build.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type input struct {
	Note      string `json:"note"`
	Inclusion *struct {
		Index    int64    `json:"index"`
		LeafHash string   `json:"leaf_hash"`
		Proof    []string `json:"proof"`
	} `json:"inclusion"`
	Consistency *struct {
		Size  int64    `json:"size"`
		Root  string   `json:"root"`
		Proof []string `json:"proof"`
	} `json:"consistency"`
}

type output struct {
	Origin      string   `json:"origin"`
	Size        int64    `json:"size"`
	Root        string   `json:"root"`
	Signers     []string `json:"signers"`
	Inclusion   *bool    `json:"inclusion,omitempty"`
	Consistency *bool    `json:"consistency,omitempty"`
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "verify_note: "+format+"\n", args...)
	os.Exit(1)
}

// parseCheckpoint reads c2sp.org/tlog-checkpoint text: origin, size, base64 root, then
// optional non-empty extension lines. (tlog.ParseTree wants the go.sum origin line.)
func parseCheckpoint(text string) (string, int64, tlog.Hash) {
	if !strings.HasSuffix(text, "\n") {
		fail("checkpoint does not end with a newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		fail("checkpoint has fewer than three lines")
	}
	for _, l := range lines {
		if l == "" {
			fail("checkpoint has an empty line")
		}
	}
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || n < 0 || lines[1] != strconv.FormatInt(n, 10) {
		fail("malformed tree size %q", lines[1])
	}
	h, err := tlog.ParseHash(lines[2])
	if err != nil {
		fail("malformed root hash %q", lines[2])
	}
	return lines[0], n, h
}

func hashes(list []string) []tlog.Hash {
	out := make([]tlog.Hash, 0, len(list))
	for _, s := range list {
		h, err := tlog.ParseHash(s)
		if err != nil {
			fail("malformed proof hash %q", s)
		}
		out = append(out, h)
	}
	return out
}

func main() {
	if len(os.Args) != 2 {
		fail("usage: verify_note VKEY < input.json")
	}
	verifier, err := note.NewVerifier(os.Args[1])
	if err != nil {
		fail("verifier key: %v", err)
	}
	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail("reading stdin: %v", err)
	}
	var in input
	if err := json.Unmarshal(data, &in); err != nil {
		fail("input: %v", err)
	}
	n, err := note.Open([]byte(in.Note), note.VerifierList(verifier))
	if err != nil {
		fail("note.Open: %v", err)
	}
	origin, size, root := parseCheckpoint(n.Text)
	out := output{Origin: origin, Size: size, Root: root.String()}
	for _, s := range n.Sigs {
		out.Signers = append(out.Signers, fmt.Sprintf("%s+%08x", s.Name, s.Hash))
	}
	if p := in.Inclusion; p != nil {
		leaf, err := tlog.ParseHash(p.LeafHash)
		if err != nil {
			fail("malformed leaf hash")
		}
		if err := tlog.CheckRecord(hashes(p.Proof), size, root, p.Index, leaf); err != nil {
			fail("tlog.CheckRecord: %v", err)
		}
		ok := true
		out.Inclusion = &ok
	}
	if p := in.Consistency; p != nil {
		old, err := tlog.ParseHash(p.Root)
		if err != nil {
			fail("malformed old root")
		}
		if err := tlog.CheckTree(hashes(p.Proof), size, root, p.Size, old); err != nil {
			fail("tlog.CheckTree: %v", err)
		}
		ok := true
		out.Consistency = &ok
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fail("output: %v", err)
	}
}
