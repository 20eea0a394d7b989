package simulate

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// observeSessions plans the Q&A of sessions about to start in simulated
// groups: members ask, the host answers, others "+1" questions they share.
func (s *Simulation) observeSessions(ctx context.Context, now time.Time) {
	list, err := dynamo.Sessions{Table: s.Stack.Table}.SessionsStarting(ctx, now, now.Add(2*sessionsEvery))
	if err != nil {
		s.Log.Warn("simulate: read sessions", "error", err)
		return
	}
	for _, ss := range list {
		if s.sessions[ss.ID] || ss.State == qunyun.SessionCancelled {
			continue
		}
		g := s.group(ss.GroupID)
		if g == nil || (g.Chat.ID == "" && g.Bot.ID == "") {
			continue
		}
		s.sessions[ss.ID] = true
		s.planSession(g, ss)
	}
}

func (s *Simulation) planSession(g *Group, ss qunyun.Session) {
	rnd := s.rndFor("session/" + ss.ID)
	host := s.member(g, s.Hosts[ss.HostID])
	var audience []*Member
	for _, m := range g.Members {
		if m.Persona != HostP && m.Persona != Spammer && m.Persona != Newcomer {
			audience = append(audience, m)
		}
	}
	if len(audience) == 0 || !ss.End.After(ss.Start.Add(15*time.Minute)) {
		return
	}
	span := ss.End.Sub(ss.Start) - 12*time.Minute
	id := func(n int) string { return fmt.Sprintf("sim-%d-s-%s-%d", s.Seed, ss.ID, n) }
	n := 0
	kind := KindMessage
	if g.Chat.ID == "" {
		kind = KindBot
	}
	if host != nil && kind == KindMessage {
		n++
		s.push(Event{At: ss.Start.Add(time.Minute), Kind: kind, Group: g, Member: host, ID: id(n), Text: texts.pick(rnd, texts.HostTalk, 0)})
	}
	questions := 3 + rnd.IntN(6)
	for range questions {
		asker := audience[rnd.IntN(len(audience))]
		at := ss.Start.Add(2*time.Minute + time.Duration(rnd.Int64N(int64(span))))
		n++
		q := Event{At: at, Kind: kind, Group: g, Member: asker, ID: id(n), Text: texts.pick(rnd, texts.Questions, 0)}
		s.push(q)
		s.stats.mu.Lock()
		s.stats.qa++
		s.stats.mu.Unlock()
		if kind != KindMessage {
			continue
		}
		for range rnd.IntN(4) {
			n++
			s.push(Event{At: at.Add(time.Duration(30+rnd.IntN(300)) * time.Second), Kind: KindVote, Group: g,
				Member: audience[rnd.IntN(len(audience))], ID: id(n), Text: texts.pick(rnd, texts.Votes, 0), ReplyTo: q.ID})
		}
		if host != nil && rnd.Float64() < 0.75 {
			n++
			s.push(Event{At: at.Add(time.Duration(2+rnd.IntN(8)) * time.Minute), Kind: kind, Group: g, Member: host, ID: id(n),
				Text: texts.pick(rnd, texts.Answers, 0), ReplyTo: q.ID, Mentions: []string{asker.ID}})
		}
	}
}

func (s *Simulation) group(id string) *Group {
	for _, g := range s.World.Groups {
		if g.ID == id {
			return g
		}
	}
	return nil
}

func (s *Simulation) member(g *Group, id string) *Member {
	for _, m := range g.Members {
		if m.ID == id {
			return m
		}
	}
	return nil
}

// sandboxTask is what the sandbox's GET /tasks lists.
type sandboxTask struct {
	MsgID     string          `json:"msgid"`
	ChatIDs   []string        `json:"chatIds"`
	SentAt    time.Time       `json:"sentAt"`
	Cancelled bool            `json:"cancelled"`
	Created   time.Time       `json:"created"`
	Body      json.RawMessage `json:"body"`
}

// sandboxCall is what the sandbox's GET /calls lists.
type sandboxCall struct {
	At   time.Time       `json:"at"`
	Path string          `json:"path"`
	Body json.RawMessage `json:"body"`
}

// Paths of sends that reach members directly (a customer-group task reaches
// them only once its owner confirms: its links are read from the task).
var directSendPaths = []string{"/cgi-bin/appchat/send", "/cgi-bin/webhook/send", "/cgi-bin/message/custom/send"}

var linkCode = regexp.MustCompile(`/r/([A-Za-z0-9_-]{1,64})`)

// observeSandbox plays the group owners (who confirm most customer-group
// tasks, some late, a few never) and schedules link opens for what reached
// members.
//
// Reactions are timed from the observation's own virtual time, never from
// when the stack did something, so they do not move with the stack's load.
func (s *Simulation) observeSandbox(ctx context.Context, now time.Time) {
	var tasks []sandboxTask
	if err := s.getJSON(ctx, "/_local/sandbox/tasks", &tasks); err != nil {
		s.Log.Warn("simulate: read sandbox tasks", "error", err)
		return
	}
	for _, t := range tasks {
		if s.tasks[t.MsgID] || t.Cancelled {
			continue
		}
		s.tasks[t.MsgID] = true
		rnd := s.rndFor(taskKey(s.sender.Base, t.ChatIDs, t.Body))
		if rnd.Float64() < 0.1 {
			continue // this owner never confirms
		}
		at := now.Add(time.Duration(2+rnd.IntN(90)) * time.Minute)
		s.push(Event{At: at, Kind: kindConfirm, ID: t.MsgID})
		for _, chat := range t.ChatIDs {
			s.scheduleOpens(at, chat, string(t.Body))
		}
	}
	if s.Bridge != nil {
		posts := s.Bridge.Posts()
		for _, m := range posts[min(s.bridgeN, len(posts)):] {
			s.scheduleOpens(now, m.GroupID, m.Text+" "+m.URL)
		}
		s.bridgeN = len(posts)
	}
	for _, path := range directSendPaths {
		var calls []sandboxCall
		if err := s.getJSON(ctx, "/_local/sandbox/calls?path="+url.QueryEscape(path), &calls); err != nil {
			s.Log.Warn("simulate: read sandbox calls", "error", err)
			return
		}
		for _, c := range calls[min(s.callsN[path], len(calls)):] {
			s.scheduleOpens(now, "", string(c.Body))
		}
		s.callsN[path] = len(calls)
	}
}

// taskKey names a customer-group task for its owner's random choices by
// what the task says, not by its msgid (the sandbox numbers tasks in the
// order concurrent pushes reached it), and without the stack's address,
// which its tracked links carry: the simulation's stack listens on a free
// port, different in every run, and the same seed must make the same
// choices.
func taskKey(stackBase string, chatIDs []string, body []byte) string {
	text := string(body)
	if stackBase != "" {
		text = strings.ReplaceAll(text, stackBase, "")
	}
	return "task/" + strings.Join(chatIDs, ",") + "/" + text
}

// scheduleOpens has some members of the link's group open each tracked link
// in body, over the next hours.
func (s *Simulation) scheduleOpens(after time.Time, groupID, body string) {
	for _, m := range linkCode.FindAllStringSubmatch(body, -1) {
		code := m[1]
		if s.codes[code] {
			continue
		}
		s.codes[code] = true
		l, found, err := dynamo.Links{Table: s.Stack.Table}.Link(context.Background(), code)
		if err != nil || !found {
			continue
		}
		g := s.group(firstNonEmpty(l.GroupID, groupID))
		if g == nil {
			continue
		}
		rnd := s.rndFor("link/" + l.GroupID + "/" + l.ContentID + "/" + l.DeliveryID)
		share := 0.05 + 0.3*rnd.Float64()
		for _, mem := range g.Members {
			if rnd.Float64() < share {
				s.push(Event{At: after.Add(time.Duration(1+rnd.IntN(240)) * time.Minute), Kind: kindOpen, Group: g, Member: mem, ID: code})
			}
		}
	}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (s *Simulation) confirm(ctx context.Context, msgID string) {
	body := strings.NewReader(`{"msgid":` + jsonString(msgID) + `}`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.sender.Base+"/_local/sandbox/confirm", body)
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.Stack.HTTP.Do(req)
	if err != nil {
		s.Log.Warn("simulate: confirm task", "task", msgID, "error", err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		s.stats.mu.Lock()
		s.stats.confirms++
		s.stats.mu.Unlock()
	}
}

func (s *Simulation) open(ctx context.Context, code, member string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.sender.Base+"/r/"+url.PathEscape(code)+"?from="+url.QueryEscape(member), nil)
	if err != nil {
		return
	}
	req.Header.Set("User-Agent", "Mozilla/5.0 MicroMessenger/8.0 (qunyun simulate)")
	// A member's browser follows the redirect to the article; the
	// simulation stops at the redirect.
	client := *s.Stack.HTTP
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		s.Log.Warn("simulate: open link", "code", code, "error", err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusFound {
		s.stats.mu.Lock()
		s.stats.opens++
		s.stats.mu.Unlock()
	}
}

func (s *Simulation) getJSON(ctx context.Context, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.sender.Base+path, nil)
	if err != nil {
		return err
	}
	resp, err := s.Stack.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", path, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
