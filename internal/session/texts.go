package session

import (
	_ "embed"
	"fmt"
	"strings"
	"text/template"
	"time"

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

func render(name string, v view) (string, error) {
	var b strings.Builder
	if err := texts.ExecuteTemplate(&b, name, v); err != nil {
		return "", fmt.Errorf("render %s: %w", name, err)
	}
	return strings.TrimSpace(b.String()), nil
}
