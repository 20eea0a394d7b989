package session

import (
	"strings"
	"testing"
)

// FuzzPageToken checks the host page's path parsing, "<session id>.<page
// key>": what it accepts splits back into the token, has a 26-character
// base32 key and a session id without '#' or '/' (the id names a table
// partition); and every such id with a well-formed key is accepted.
func FuzzPageToken(f *testing.F) {
	f.Add("w20261123-g1-1.ABCDEFGHIJKLMNOPQRSTUVWXYZ") // events/session-page.json
	f.Add("w20261123-g1-1")
	f.Add(".ABCDEFGHIJKLMNOPQRSTUVWXYZ")
	f.Add("a.b.ABCDEFGHIJKLMNOPQRSTUVW234")
	f.Add("s#1/x.ABCDEFGHIJKLMNOPQRSTUVWXYZ")
	const key = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	f.Fuzz(func(t *testing.T, token string) {
		if id, k, ok := parsePageToken(token); ok {
			if id+"."+k != token || id == "" || strings.ContainsAny(id, "#/") || len(k) != pageKeyLen ||
				strings.Trim(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
				t.Fatalf("accepted %q as %q . %q", token, id, k)
			}
		}
		id, k, ok := parsePageToken(token + "." + key)
		want := token != "" && !strings.ContainsAny(token, "#/")
		if ok != want || ok && (id != token || k != key) {
			t.Fatalf("%q with a good key: %q %q %v, want ok=%v", token, id, k, ok, want)
		}
	})
}
