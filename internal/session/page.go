package session

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// The host's page (docs/sessions.md, "The host's page"): the reminder links
// to ${PUBLIC_BASE_URL}/sessions/<session id>.<page key>, where the page key
// is 26 random base32 characters (130 bits) stored with the session the
// first time a link is made. Session ids follow a pattern and can be
// guessed; the key cannot, so the link reads this one session and nothing
// else. A wrong or missing key answers exactly like an unknown session.
// The page only reads: opening it never writes to the table.

// PageRouteKey is the HttpApi route that serves the page (template.yaml,
// SessionFunction's Page event).
const PageRouteKey = "GET /sessions/{id}"

// PageLifetime is how long after its session's end the page still opens:
// long enough to look back at a recap, short enough that a link forwarded
// or left in a chat does not read the group's questions for ever. Later the
// right key gets a plain 410.
const PageLifetime = 30 * 24 * time.Hour

// pageKeyLen is the length of rand.Text's output.
const pageKeyLen = 26

//go:embed page.html
var pageSource string

// pageTemplates holds the page and its 404 text; html/template escapes
// everything members wrote.
var pageTemplates = template.Must(template.New("page").Parse(pageSource))

// PageLink returns the link to the session's page for its host, making the
// page key on first use (one conditional write; later calls read it). It
// returns "" without writing when PublicBaseURL is not set.
func (s *Service) PageLink(ctx context.Context, sessionID string) (string, error) {
	if s.PublicBaseURL == "" {
		return "", nil
	}
	key, err := s.Sessions.EnsureSessionPageKey(ctx, sessionID, rand.Text())
	if err != nil {
		return "", fmt.Errorf("session %s: page link: %w", sessionID, err)
	}
	return strings.TrimRight(s.PublicBaseURL, "/") + "/sessions/" + url.PathEscape(sessionID+"."+key), nil
}

// ServePage answers GET /sessions/{id}. An unknown route, session or key is
// a 404; a table failure is a 503 the host can retry (and an error in the
// log). It never writes.
func (s *Service) ServePage(ctx context.Context, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	if req.RouteKey != PageRouteKey || req.RequestContext.HTTP.Method != http.MethodGet {
		return pageNotFound()
	}
	sessionID, key, ok := parsePageToken(req.PathParameters["id"])
	if !ok {
		return pageNotFound()
	}
	v, found, err := s.pageView(ctx, sessionID, key)
	if err != nil {
		s.log().Error("session page", "session", sessionID, "err", err)
		return pageText(http.StatusServiceUnavailable, "unavailable")
	}
	if !found {
		return pageNotFound()
	}
	if v.expired {
		return pageText(http.StatusGone, "expired")
	}
	var b bytes.Buffer
	if err := pageTemplates.ExecuteTemplate(&b, "page", v); err != nil {
		s.log().Error("session page: render", "session", sessionID, "err", err)
		return pageText(http.StatusInternalServerError, "unavailable")
	}
	return pageResponse(http.StatusOK, "text/html; charset=utf-8", b.String())
}

// parsePageToken splits "<session id>.<page key>"; the key has no '.', the
// id may.
func parsePageToken(token string) (sessionID, key string, ok bool) {
	i := strings.LastIndexByte(token, '.')
	if i <= 0 {
		return "", "", false
	}
	sessionID, key = token[:i], token[i+1:]
	if len(key) != pageKeyLen || strings.ContainsAny(sessionID, "#/") {
		return "", "", false
	}
	for _, c := range key {
		if !(c >= 'A' && c <= 'Z' || c >= '2' && c <= '7') {
			return "", "", false
		}
	}
	return sessionID, key, true
}

// pageView is what page.html sees.
type pageView struct {
	Topic      string
	HostName   string
	GroupName  string
	TimeZone   string
	Date       string // in the group's zone
	Window     string // "20:00–20:45"
	Minutes    int
	State      qunyun.SessionState
	LateBy     int
	Rotation   []rotationRow
	Open       []pageQuestion
	Answered   []pageQuestion
	Hidden     int
	Recap      *pageRecap
	RecapEmpty bool // recapped with nothing said: nothing was sent

	expired bool // PageLifetime after the session's end: nothing else is read
}

type rotationRow struct {
	When      string // in that group's zone
	TimeZone  string
	GroupName string
	State     qunyun.SessionState
	Current   bool
}

type pageQuestion struct {
	N          int
	Text       string
	MemberName string
	Votes      int
	Answer     string
}

type pageRecap struct {
	KeyPoints  []string
	Top        []qunyun.RecapQuestion
	Unanswered []qunyun.RecapQuestion
	Attendees  int
	Absent     int
	Digest     int
	Message    string // the 1:1 message absent members get (recap_dm)
}

// pageView reads everything the page shows; found is false for an unknown
// session or a key that does not match.
func (s *Service) pageView(ctx context.Context, sessionID, key string) (pageView, bool, error) {
	stored, found, err := s.Sessions.SessionPageKey(ctx, sessionID)
	if err != nil || !found || subtle.ConstantTimeCompare([]byte(stored), []byte(key)) != 1 {
		return pageView{}, false, err
	}
	sess, found, err := s.Sessions.Session(ctx, sessionID)
	if err != nil || !found {
		return pageView{}, false, err
	}
	if s.Clock.Now().After(sess.End.Add(PageLifetime)) {
		return pageView{expired: true}, true, nil
	}
	g, h, err := s.parties(ctx, sess)
	if err != nil {
		return pageView{}, false, err
	}
	base := newView(sess, g, h)
	loc := g.Location()
	v := pageView{
		Topic: base.Topic, HostName: base.HostName, GroupName: base.GroupName,
		TimeZone: loc.String(),
		Date:     sess.Start.In(loc).Format("2006-01-02"),
		Window:   sess.Start.In(loc).Format("15:04") + "–" + sess.End.In(loc).Format("15:04"),
		Minutes:  base.Minutes, State: sess.State, LateBy: sess.Run.LateBy,
	}
	if v.Rotation, err = s.rotation(ctx, sess, g); err != nil {
		return v, false, err
	}
	if sess.State == qunyun.SessionCancelled {
		return v, true, nil
	}
	qs, err := s.Sessions.Questions(ctx, sess.ID)
	if err != nil {
		return v, false, err
	}
	// Number them as the host's queue does, so 「隐藏 3」 means the same.
	slices.SortStableFunc(qs, func(a, b qunyun.Question) int { return cmp.Or(a.At.Compare(b.At), strings.Compare(a.Key, b.Key)) })
	for i, q := range qs {
		pq := pageQuestion{N: i + 1, Text: questionText(q.Text), MemberName: q.MemberName, Votes: q.Votes, Answer: q.Answer}
		switch {
		case q.MergedInto != "":
			// Its asker's vote is on the question it repeats.
		case q.Hidden:
			v.Hidden++
		case q.Answered:
			v.Answered = append(v.Answered, pq)
		default:
			v.Open = append(v.Open, pq)
		}
	}
	slices.SortStableFunc(v.Open, func(a, b pageQuestion) int { return cmp.Compare(b.Votes, a.Votes) })
	if sess.State != qunyun.SessionRecapped {
		return v, true, nil
	}
	r, found, err := s.Sessions.Recap(ctx, sess.ID)
	if err != nil {
		return v, false, err
	}
	if !found { // recapped always stores one first; show the rest anyway
		return v, true, nil
	}
	if len(r.KeyPoints) == 0 && len(r.Top) == 0 {
		v.RecapEmpty = true
		return v, true, nil
	}
	dm, err := render("recap_dm", recapView(sess, g, h, r))
	if err != nil {
		return v, false, err
	}
	v.Recap = &pageRecap{KeyPoints: r.KeyPoints, Top: r.Top, Unanswered: r.Unanswered,
		Attendees: len(r.Attendees), Absent: len(r.Absent), Digest: len(r.DigestMembers), Message: dm}
	return v, true, nil
}

// rotation lists the host's sessions in the planning week of sess (Monday
// to Monday, Asia/Shanghai, as the planner plans), in order.
func (s *Service) rotation(ctx context.Context, sess qunyun.Session, g qunyun.Group) ([]rotationRow, error) {
	week := NextWeekStart(sess.Start).AddDate(0, 0, -7)
	all, err := s.Sessions.SessionsStarting(ctx, week, week.AddDate(0, 0, 7))
	if err != nil {
		return nil, err
	}
	groups := map[string]qunyun.Group{g.ID: g}
	var rows []rotationRow
	for _, x := range all {
		if x.HostID != sess.HostID {
			continue
		}
		xg, ok := groups[x.GroupID]
		if !ok {
			if xg, ok, err = s.Catalog.Group(ctx, x.GroupID); err != nil {
				return nil, err
			} else if !ok {
				xg = qunyun.Group{ID: x.GroupID}
			}
			groups[x.GroupID] = xg
		}
		loc := xg.Location()
		rows = append(rows, rotationRow{
			When:      x.Start.In(loc).Format("01-02 15:04") + "–" + x.End.In(loc).Format("15:04"),
			TimeZone:  loc.String(),
			GroupName: cmp.Or(xg.Name, xg.ID),
			State:     x.State,
			Current:   x.ID == sess.ID,
		})
	}
	return rows, nil
}

func pageNotFound() events.APIGatewayV2HTTPResponse {
	return pageText(http.StatusNotFound, "notfound")
}

// pageText answers with one of the page's plain-text messages.
func pageText(status int, name string) events.APIGatewayV2HTTPResponse {
	var b bytes.Buffer
	if err := pageTemplates.ExecuteTemplate(&b, name, nil); err != nil {
		b.Reset()
		b.WriteString(http.StatusText(status))
	}
	return pageResponse(status, "text/plain; charset=utf-8", strings.TrimSpace(b.String())+"\n")
}

func pageResponse(status int, contentType, body string) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers: map[string]string{
			"Content-Type": contentType,
			// The URL is the credential: keep it out of caches, referrers
			// and search engines; the page needs no script and no frame.
			"Cache-Control":           "no-store",
			"Referrer-Policy":         "no-referrer",
			"X-Robots-Tag":            "noindex, nofollow",
			"X-Content-Type-Options":  "nosniff",
			"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
		},
		Body: body,
	}
}
