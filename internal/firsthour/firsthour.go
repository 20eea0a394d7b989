// Package firsthour is what a newcomer should see within five minutes of
// `make run`, checked the way a program reads the operator CLI: through
// its --json. Members have joined the groups, the local relay bridge has
// received a relay post, the smart bot has answered a keyword and a
// check-in, a host session has opened, and yesterday's report is there.
//
// infra/local/first-hour.sh runs the checks against `make run`'s stack
// (through infra/local/firsthour, which runs the built CLI); a test in
// cmd/qunyun runs them against a stack on the test's clock. The package
// knows only the CLI's commands and their JSON, never the stack's code.
package firsthour

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Runner runs `qunyun <args>` and returns what it printed on stdout.
type Runner func(ctx context.Context, args ...string) ([]byte, error)

// Check is one thing the newcomer should see.
type Check struct {
	Name string
	// Run reads what it needs through r: ok says whether it is there yet,
	// detail what was found (or what is missing). An error is a command
	// that failed or printed something else than its JSON.
	Run func(ctx context.Context, r Runner) (ok bool, detail string, err error)
}

// Result is a check's outcome.
type Result struct {
	Name   string
	OK     bool
	Detail string
}

// Checks are the first hour's, in the order a newcomer meets them.
var Checks = []Check{
	{"members", members},
	{"relay post", relayPost},
	{"keyword reply", answered("keyword")},
	{"check-in reply", answered("checkin")},
	{"session", session},
	{"report", report},
}

// RunAll runs every check once.
func RunAll(ctx context.Context, r Runner) []Result {
	out := make([]Result, 0, len(Checks))
	for _, c := range Checks {
		ok, detail, err := c.Run(ctx, r)
		if err != nil {
			ok, detail = false, err.Error()
		}
		out = append(out, Result{Name: c.Name, OK: ok, Detail: detail})
	}
	return out
}

// Passed reports whether every result passed.
func Passed(results []Result) bool {
	for _, r := range results {
		if !r.OK {
			return false
		}
	}
	return len(results) > 0
}

// getJSON runs a command with --json and decodes what it printed.
func getJSON(ctx context.Context, r Runner, v any, args ...string) error {
	out, err := r(ctx, append(args, "--json")...)
	if err != nil {
		return fmt.Errorf("qunyun %s: %w", strings.Join(args, " "), err)
	}
	if err := json.Unmarshal(out, v); err != nil {
		return fmt.Errorf("qunyun %s --json: %w", strings.Join(args, " "), err)
	}
	return nil
}

// members: the groups count members, and some joined through a callback
// (they have a join time; imported members and staff may not).
func members(ctx context.Context, r Runner) (bool, string, error) {
	var groups []struct {
		ID          string `json:"id"`
		MemberCount int    `json:"memberCount"`
	}
	if err := getJSON(ctx, r, &groups, "get", "groups"); err != nil {
		return false, "", err
	}
	counted, total := 0, 0
	for _, g := range groups {
		if g.MemberCount > 0 {
			counted++
			total += g.MemberCount
		}
	}
	var list []struct {
		JoinedAt string `json:"joinedAt"`
	}
	if err := getJSON(ctx, r, &list, "get", "members"); err != nil {
		return false, "", err
	}
	joined := 0
	for _, m := range list {
		if m.JoinedAt != "" {
			joined++
		}
	}
	detail := fmt.Sprintf("%d members in %d of %d groups (get groups); %d of %d rows joined (get members)", total, counted, len(groups), joined, len(list))
	return counted > 0 && joined > 0, detail, nil
}

// relayPost: the local bridge received a post for a relay group.
func relayPost(ctx context.Context, r Runner) (bool, string, error) {
	var posts []struct {
		GroupID string `json:"groupId"`
		Text    string `json:"text"`
	}
	if err := getJSON(ctx, r, &posts, "local", "bridge"); err != nil {
		return false, "", err
	}
	if len(posts) == 0 {
		return false, "the bridge has received no post yet (local bridge)", nil
	}
	p := posts[len(posts)-1]
	return true, fmt.Sprintf("%d posts (local bridge); the last to %s: %s", len(posts), p.GroupID, clip(p.Text, 40)), nil
}

// answered: the smart bot answered a message with a rule of kind today.
func answered(kind string) func(ctx context.Context, r Runner) (bool, string, error) {
	return func(ctx context.Context, r Runner) (bool, string, error) {
		var replies []struct {
			GroupID string `json:"group"`
			Text    string `json:"text"`
			Reply   string `json:"reply"`
			Kind    string `json:"kind"`
		}
		if err := getJSON(ctx, r, &replies, "get", "replies"); err != nil {
			return false, "", err
		}
		n, last := 0, -1
		for i, a := range replies {
			if a.Kind == kind {
				n, last = n+1, i
			}
		}
		if last < 0 {
			return false, fmt.Sprintf("no %s reply today (get replies: %d replies)", kind, len(replies)), nil
		}
		a := replies[last]
		return true, fmt.Sprintf("%d today (get replies); in %s %q → %q", n, a.GroupID, clip(a.Text, 20), clip(a.Reply, 30)), nil
	}
}

// session: a host session has opened (or has run its course since).
func session(ctx context.Context, r Runner) (bool, string, error) {
	var sessions []struct {
		ID      string `json:"id"`
		GroupID string `json:"group"`
		State   string `json:"state"`
	}
	if err := getJSON(ctx, r, &sessions, "get", "sessions"); err != nil {
		return false, "", err
	}
	for _, s := range sessions {
		switch s.State {
		case "open", "closing", "closed", "recapped":
			return true, fmt.Sprintf("%s in %s is %s (get sessions)", s.ID, s.GroupID, s.State), nil
		}
	}
	return false, fmt.Sprintf("none of %d sessions has opened yet (get sessions)", len(sessions)), nil
}

// report: yesterday's report is there, written as a page.
func report(ctx context.Context, r Runner) (bool, string, error) {
	var rep struct {
		Date string `json:"date"`
		Path string `json:"path"`
	}
	if err := getJSON(ctx, r, &rep, "report", "--no-open"); err != nil {
		return false, "", err
	}
	return rep.Path != "", fmt.Sprintf("the report of %s: %s (report)", rep.Date, rep.Path), nil
}

// clip shortens s to n characters.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
