package session

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/qunyun/qunyun/internal/moderation"
	"github.com/qunyun/qunyun/internal/qunyun"
)

//go:embed texts.tmpl
var textsSource string

// texts holds the Chinese messages; parsed once at start-up because a
// broken template is a programming error that tests catch.
var texts = template.Must(template.New("texts").Funcs(template.FuncMap{
	"inc": func(i int) int { return i + 1 },
}).Parse(textsSource))

// view is what the templates see.
type view struct {
	HostName      string
	GroupName     string
	Topic         string
	StartLocal    string
	EndLocal      string
	Minutes       int
	Link          string
	LateBy        int
	WaitedMinutes int
	Reschedule    string // the host's next free slot, after a no-show
	PreviousRecap []string
	Questions     []queuedQuestion
	KeyPoints     []string
	Top           []qunyun.RecapQuestion
	Unanswered    []qunyun.RecapQuestion
	Attendees     []string
	AttendeeNames string
}

type queuedQuestion struct {
	N          int
	Text       string
	Votes      int
	MemberName string
}

// newView fills the common fields for a session in its group's time zone.
func newView(s qunyun.Session, g qunyun.Group, h qunyun.Host) view {
	loc := g.Location()
	topic := s.Topic
	if topic == "" {
		topic = "自由交流"
	}
	name := h.Name
	if name == "" {
		name = "嘉宾"
	}
	group := g.Name
	if group == "" {
		group = g.ID
	}
	return view{
		HostName:   name,
		GroupName:  group,
		Topic:      topic,
		StartLocal: s.Start.In(loc).Format("1月2日 15:04"),
		EndLocal:   s.End.In(loc).Format("15:04"),
		Minutes:    int(s.End.Sub(s.Start) / time.Minute),
	}
}

// render fills one message. What members wrote or chose is quoted with its
// links broken (moderation.Defang): push sends this text as it is, and a
// member's link must not become one our account makes clickable.
func render(name string, v view) (string, error) {
	v = v.quoted()
	var b strings.Builder
	if err := texts.ExecuteTemplate(&b, name, v); err != nil {
		return "", fmt.Errorf("render %s: %w", name, err)
	}
	return strings.TrimSpace(b.String()), nil
}

// quoted is v with the members' words (questions, answers, key points,
// names) and the group's name defanged. Slices are copied: the recap's own
// are stored as they were said.
func (v view) quoted() view {
	q := moderation.Defang
	v.GroupName, v.AttendeeNames = q(v.GroupName), q(v.AttendeeNames)
	v.PreviousRecap, v.KeyPoints = quoteAll(v.PreviousRecap), quoteAll(v.KeyPoints)
	v.Questions = slices.Clone(v.Questions)
	for i := range v.Questions {
		v.Questions[i].Text, v.Questions[i].MemberName = q(v.Questions[i].Text), q(v.Questions[i].MemberName)
	}
	v.Top, v.Unanswered = quoteRecap(v.Top), quoteRecap(v.Unanswered)
	return v
}

func quoteAll(in []string) []string {
	out := slices.Clone(in)
	for i := range out {
		out[i] = moderation.Defang(out[i])
	}
	return out
}

func quoteRecap(in []qunyun.RecapQuestion) []qunyun.RecapQuestion {
	out := slices.Clone(in)
	for i := range out {
		out[i].Text, out[i].MemberName, out[i].Answer = moderation.Defang(out[i].Text), moderation.Defang(out[i].MemberName), moderation.Defang(out[i].Answer)
	}
	return out
}
