package contest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/qunyun/qunyun/internal/bus"
	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/community"
	"github.com/qunyun/qunyun/internal/contest"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/local/eventbus"
	"github.com/qunyun/qunyun/internal/local/sandbox"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/wechatapi"
)

// sink records what the local bus delivers to the push function.
type sink struct {
	mu       sync.Mutex
	payloads []json.RawMessage
}

func (s *sink) Invoke(_ context.Context, _ string, payload []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.payloads = append(s.payloads, payload)
	return nil
}

func (s *sink) requests(t *testing.T) []qunyun.DeliveryRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []qunyun.DeliveryRequest
	for _, p := range s.payloads {
		var ev struct {
			Detail qunyun.DeliveryRequest `json:"detail"`
		}
		if err := json.Unmarshal(p, &ev); err != nil {
			t.Fatal(err)
		}
		out = append(out, ev.Detail)
	}
	return out
}

func TestContestAgainstTheSandbox(t *testing.T) {
	ctx := t.Context()
	start := time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)
	end := start.Add(7 * 24 * time.Hour)
	clk := clock.NewManual(start.Add(time.Hour))
	table := dynamotest.NewTable(t, clk)

	// The WeChat API: the push engineer's sandbox, over HTTP.
	sb := sandbox.New(clk)
	api := httptest.NewServer(sb.OA())
	defer api.Close()
	// The bus: the local EventBridge, routing DeliveryRequested to "push".
	sk := &sink{}
	b, err := eventbus.New(eventbus.Config{Invoker: sk, Clock: clk, Rules: []eventbus.Rule{{Function: "PushFunction",
		EventBusName: "qunyun-test", Pattern: []byte(`{"source":["qunyun"],"detail-type":["DeliveryRequested"]}`)}}})
	if err != nil {
		t.Fatal(err)
	}
	busSrv := httptest.NewServer(b)
	defer func() { busSrv.Close(); b.Wait() }()
	pub := &bus.Publisher{BusName: "qunyun-test", Client: eventbridge.New(eventbridge.Options{Region: "us-east-1",
		BaseEndpoint: aws.String(busSrv.URL), Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})}

	account := qunyun.Account{ID: "oa1", Kind: qunyun.ChannelOA, AppID: "wxapp1", Secret: "s3cret"}
	tokens := &wechatapi.Tokens{Store: dynamo.Tokens{Table: table}, Now: clk.Now}
	comments := func(id string) (contest.Comments, error) {
		if id != account.ID {
			return nil, fmt.Errorf("unknown account %s", id)
		}
		return &contest.OAComments{Base: api.URL, Token: contest.StableToken(tokens, nil, api.URL, account)}, nil
	}
	runner, err := contest.New(contestStores(table), comments, pub, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	c := qunyun.Contest{ID: "c1", AccountID: "oa1", Title: "年度好文留言", MsgDataID: "2247483", Index: 0,
		Start: start.Format(time.RFC3339), End: end.Format(time.RFC3339), MinLength: 6, Winners: 2}
	if err := (dynamo.Catalog{Table: table}).PutContest(ctx, c); err != nil {
		t.Fatal(err)
	}
	// 60 comments: more than one page. u07 writes twice, u08 too briefly,
	// the staff member u09 comments too.
	for i := range 60 {
		text := fmt.Sprintf("第%d条留言：这篇文章写得很好", i)
		switch i {
		case 8:
			text = "赞"
		}
		openid := fmt.Sprintf("u%02d", i)
		if i == 20 {
			openid = "u07"
		}
		sb.AddComment(c.MsgDataID, c.Index, openid, text)
	}
	if err := (dynamo.Catalog{Table: table}).PutMember(ctx, qunyun.Member{GroupID: "g1", ID: "u09", Role: qunyun.RoleModerator}); err != nil {
		t.Fatal(err)
	}
	// u11 is in no group, but community.yaml names them staff by their openid.
	staffFile, err := community.Parse("community.yaml", []byte("accounts: [{id: oa1, kind: oa}]\nstaff: [{id: s-ed, role: editor, ids: {oa1: u11}}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if d, err := community.Compute(ctx, table, staffFile, false); err != nil || d.Apply(ctx, table, nil) != nil {
		t.Fatalf("apply staff: %v", err)
	}
	runner.Staff = dynamo.People{Table: table}.Staff
	// Votes sent to the OA, as the callback records them; v1 votes twice,
	// v3 followed during the contest.
	vote := func(voter, text string, at time.Time) {
		_, _, err := dynamo.Log{Table: table}.RecordMessage(ctx, qunyun.Message{ID: voter + text, AccountID: "oa1", Channel: qunyun.ChannelOA,
			MemberID: voter, Kind: qunyun.KindText, Text: text, At: at}, qunyun.Followup{})
		if err != nil {
			t.Fatal(err)
		}
	}
	day := start.Add(24 * time.Hour)
	vote("v1", "投票 3", day)
	vote("v1", "投票 4", day.Add(time.Minute)) // a second vote: ignored
	vote("v2", "投票 3", day.Add(2*time.Minute))
	vote("v3", "投票 4", day.Add(3*time.Minute))
	vote("v4", "投票 999", day.Add(4*time.Minute)) // no such entry
	vote("v5", "投票 3", end.Add(time.Hour))       // after the end
	vote("v6", "投票 10", start.Add(-time.Hour))   // before the start
	vote("v7", "投票 10", day.Add(5*time.Minute))  // the staff member's entry: counted, but it cannot win
	vote("v8", "投票 9", day.Add(6*time.Minute))   // u08's too-short entry
	if _, err := (dynamo.Log{Table: table}).RecordAccountEvent(ctx, qunyun.AccountEvent{ID: "sub-v3", Type: qunyun.EventSubscribed,
		AccountID: "oa1", Channel: qunyun.ChannelOA, MemberID: "v3", At: day}, qunyun.Followup{}); err != nil {
		t.Fatal(err)
	}

	// While it runs: standings, nothing settled.
	clk.Set(start.Add(3 * 24 * time.Hour))
	entries, err := runner.Run(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 60 {
		t.Fatalf("%d entries, want 60 (pagination)", len(entries))
	}
	if lists := sb.Calls("/cgi-bin/comment/list"); len(lists) != 2 {
		t.Fatalf("%d list calls, want 2 pages", len(lists))
	}
	if n := len(sb.Calls("/cgi-bin/comment/markelect")); n != 0 {
		t.Fatalf("settled a running contest: %d markelect calls", n)
	}

	// The operator's likes: a bad file changes nothing.
	if _, err := contest.ImportLikes(ctx, dynamo.Scores{Table: table}, "c1", strings.NewReader("编号,点赞\n5,10\n6,lots\n1000,3\n")); qunyun.ErrorCode(err) != qunyun.EINVALID {
		t.Fatalf("bad CSV: %v", err)
	} else if !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "line 4") {
		t.Fatalf("bad CSV error does not say where: %v", err)
	}
	stored, _ := dynamo.Scores{Table: table}.ContestEntries(ctx, "c1")
	for _, e := range stored {
		if e.Likes != 0 {
			t.Fatalf("a rejected import changed entry %d", e.CommentID)
		}
	}
	n, err := contest.ImportLikes(ctx, dynamo.Scores{Table: table}, "c1", strings.NewReader("\ufeff编号,昵称,点赞\n5,甲,1\n21,乙,9\n10,丙,50\n"))
	if err != nil || n != 3 {
		t.Fatalf("import: %d, %v", n, err)
	}

	// After the end: winners settled once.
	clk.Set(end.Add(2 * time.Hour))
	for run := range 2 {
		entries, err = runner.Run(ctx, c)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		b.Wait()
	}
	by := map[int64]qunyun.ContestEntry{}
	for _, e := range entries {
		by[e.CommentID] = e
	}
	check := func(id int64, want string) {
		t.Helper()
		e := by[id]
		got := fmt.Sprintf("likes=%d votes=%d rank=%d winner=%v excluded=%s", e.Likes, e.Votes, e.Rank, e.Winner, e.Excluded)
		if got != want {
			t.Errorf("comment %d: %s\n                 want %s", id, got, want)
		}
	}
	// Comment ids are 1-based; comment i+1 was written by u<i>.
	check(10, "likes=50 votes=1 rank=0 winner=false excluded=staff")
	check(12, "likes=0 votes=0 rank=0 winner=false excluded=staff")
	check(9, "likes=0 votes=1 rank=0 winner=false excluded=too_short")
	check(21, "likes=9 votes=0 rank=0 winner=false excluded=duplicate") // u07's second comment
	check(3, "likes=0 votes=2 rank=1 winner=true excluded=")
	check(4, "likes=0 votes=1 rank=2 winner=true excluded=") // ties with 5 on 1, and is earlier
	check(5, "likes=1 votes=0 rank=3 winner=false excluded=")
	check(8, "likes=0 votes=0 rank=8 winner=false excluded=") // u07's entry is their first comment
	if by[4].NewFollowerVotes != 1 {
		t.Errorf("the vote from a member who followed during the contest is not flagged: %+v", by[4])
	}
	winners := 0
	for _, e := range entries {
		if e.Winner {
			winners++
			if !e.Elected || !e.Replied || !e.Notified {
				t.Errorf("winner %d not settled: %+v", e.CommentID, e)
			}
		}
	}
	if winners != 2 {
		t.Fatalf("%d winners, want 2", winners)
	}
	if n := len(sb.Calls("/cgi-bin/comment/markelect")); n != 2 {
		t.Fatalf("%d markelect calls over two runs, want 2", n)
	}
	if n := len(sb.Calls("/cgi-bin/comment/reply/add")); n != 2 {
		t.Fatalf("%d reply calls over two runs, want 2", n)
	}
	reqs := sk.requests(t)
	if len(reqs) != 2 {
		t.Fatalf("%d DeliveryRequested, want 2: %+v", len(reqs), reqs)
	}
	for _, r := range reqs {
		if r.Source != "contest" || r.TargetKind != qunyun.TargetMember || r.Content == nil || !strings.Contains(r.Content.Text, "年度好文留言") {
			t.Errorf("notice: %+v", r)
		}
	}
	votes, _ := dynamo.Scores{Table: table}.ContestVotes(ctx, "c1")
	// v1 (its first vote only), v2, v3, v7, v8; v4 voted for no entry, v5
	// and v6 outside the contest.
	if len(votes) != 5 {
		t.Fatalf("votes: %+v", votes)
	}
}
