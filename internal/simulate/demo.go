package simulate

import (
	"bytes"
	"fmt"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/qunyun/qunyun/internal/community"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// Demo ids: stable, so starting the demo again updates them rather than
// piling up plans and sessions.
const (
	DemoPlanID    = "p-demo-now"
	DemoSessionID = "s-demo-now"
)

// DemoCommunity is the demo community file (base, named name in errors)
// plus what makes the system visibly work within a minute or two of now: a
// plan due in two minutes for the chat groups and a host session opening
// in three. The result is validated like any community file.
func DemoCommunity(base []byte, name string, now time.Time) (*community.Community, error) {
	var f community.File
	dec := yaml.NewDecoder(bytes.NewReader(base))
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("demo: read %s: %w", name, err)
	}
	loc := qunyun.LoadLocation(f.Defaults.TimeZone)
	due := now.In(loc).Truncate(time.Minute).Add(2 * time.Minute)
	content, group, host := demoPicks(&f)
	if content == "" || group == "" || host == "" {
		return nil, fmt.Errorf("demo: %s needs a text content, a VIP (or any) group and a host for the demo", name)
	}
	f.Plans = append(f.Plans, community.PlanSpec{
		ID: DemoPlanID, Name: "演示：两分钟后推送",
		Contents: []string{content},
		Select:   qunyun.GroupSelector{Purposes: []qunyun.Purpose{qunyun.PurposeGeneral, qunyun.PurposeFan, qunyun.PurposeVIP}},
		// A one-off slot: the year field pins it to this minute.
		Cron: fmt.Sprintf("cron(%d %d %d %d ? %d)", due.Minute(), due.Hour(), due.Day(), int(due.Month()), due.Year()),
	})
	f.Sessions.Manual = append(f.Sessions.Manual, community.ManualSession{
		ID: DemoSessionID, Group: group, Host: host, Topic: "演示：嘉宾在线答疑",
		Start: due.Add(time.Minute).Format(time.RFC3339), Minutes: 30,
		// It opens now whatever the host's week says, so the demo shows a
		// session at any hour.
		Override: "演示",
	})
	out, err := yaml.Marshal(&f)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	c, err := community.Parse(name+" (with the demo plan and session)", out)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	return c, nil
}

// demoPicks chooses the demo's content (the first text item), group (the
// first VIP group, else the first group) and host (the first one allowed
// in that group).
func demoPicks(f *community.File) (content, group, host string) {
	for _, c := range f.Contents {
		if c.Kind == qunyun.ContentText && c.ID != "" {
			content = c.ID
			break
		}
	}
	var tier string
	for _, g := range f.Groups {
		if g.Purpose == qunyun.PurposeVIP {
			group, tier = g.ID, g.Tier
			break
		}
	}
	if group == "" && len(f.Groups) > 0 {
		group, tier = f.Groups[0].ID, f.Groups[0].Tier
	}
	for _, h := range f.Hosts {
		hm := HostMember{MemberID: "x", Groups: h.Groups, Tiers: h.Tiers}
		if hostServes(hm, &Group{Group: qunyun.Group{ID: group, Tier: tier}}) {
			return content, group, h.ID
		}
	}
	return content, group, ""
}
