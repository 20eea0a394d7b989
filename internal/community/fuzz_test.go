package community_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/awscron"
	"github.com/qunyun/qunyun/internal/community"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// FuzzParse parses fuzzed community files (seeded with
// infra/local/community.yaml and small valid files). A refused file gets
// Problems, each at a line and column of the file with a message, matching
// EINVALID; an accepted one parses the same twice and holds what the
// schema and the checks promise: unique ids, loadable time zones, size
// caps 1-500, session lengths 15-180 minutes, plans on a cron schedule,
// and every range ending after it starts.
func FuzzParse(f *testing.F) {
	demo, err := os.ReadFile("../../infra/local/community.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(demo)
	f.Add([]byte("accounts:\n  - {id: wc, kind: wecom}\ngroups:\n  - id: g1\n    account: wc\n    purpose: general\ncontents:\n  - {id: c1, kind: text, text: 你好}\nplans:\n  - id: p1\n    contents: [c1]\n    cron: 0 11 * * ? *\n"))
	f.Add([]byte("groups:\n  - id: g1\n    purpose: shelff\n    nmae: 一群\n"))
	f.Add([]byte("hosts:\n  - {id: h1, name: 嘉宾}\ngroups: [{id: g1}]\nsessions:\n  manual:\n    - {id: s1, group: g1, host: h1, start: 2026-11-23T20:00:00+08:00, minutes: 45}\n"))
	f.Add([]byte(""))
	f.Add([]byte("- [\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := community.Parse("x.yaml", data)
		if err != nil {
			var ps community.Problems
			if !errors.As(err, &ps) || len(ps) == 0 || qunyun.ErrorCode(err) != qunyun.EINVALID {
				t.Fatalf("not Problems: %v", err)
			}
			for _, p := range ps {
				if p.File != "x.yaml" || p.Line < 1 || p.Column < 1 || p.Message == "" {
					t.Fatalf("problem %+v", p)
				}
			}
			return
		}
		// Compared as JSON: the exported data, not the helpers it carries.
		if again, err := community.Parse("x.yaml", data); err != nil || !sameJSON(c, again) {
			t.Fatalf("parsed differently the second time: %v", err)
		}
		checkCommunity(t, c)
	})
}

func sameJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

func checkCommunity(t *testing.T, c *community.Community) {
	t.Helper()
	unique := func(section string, n int, id func(int) string) {
		seen := map[string]bool{}
		for i := range n {
			if seen[id(i)] {
				t.Fatalf("%s: duplicate id %q", section, id(i))
			}
			seen[id(i)] = true
		}
	}
	unique("groups", len(c.Groups), func(i int) string { return c.Groups[i].ID })
	unique("contents", len(c.Contents), func(i int) string { return c.Contents[i].ID })
	unique("plans", len(c.Plans), func(i int) string { return c.Plans[i].ID })
	unique("hosts", len(c.Hosts), func(i int) string { return c.Hosts[i].ID })
	unique("sessions", len(c.Sessions), func(i int) string { return c.Sessions[i].ID })
	unique("contests", len(c.Contests), func(i int) string { return c.Contests[i].ID })
	for _, g := range c.Groups {
		if _, err := time.LoadLocation(g.TimeZone); err != nil || g.SizeCap < 1 || g.SizeCap > 500 {
			t.Fatalf("group %+v", g.Group)
		}
	}
	for _, p := range c.Plans {
		if e, err := awscron.Parse(p.Cron); p.Cron != "" && (err != nil || e.IsRate()) {
			t.Fatalf("plan %s: cron %q (%v)", p.ID, p.Cron, err)
		}
		if !p.Start.IsZero() && !p.End.IsZero() && !p.End.After(p.Start) {
			t.Fatalf("plan %s: %s to %s", p.ID, p.Start, p.End)
		}
	}
	for _, s := range c.Sessions {
		if d := s.End.Sub(s.Start); d < 15*time.Minute || d > 180*time.Minute {
			t.Fatalf("session %s lasts %s", s.ID, d)
		}
	}
	for _, st := range c.SessionTargets {
		if st.Minutes < 15 || st.Minutes > 180 {
			t.Fatalf("session target %+v", st)
		}
	}
}
