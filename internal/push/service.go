// Package push is PushFunction's service: every outbound message of Qunyun
// goes through it. The minute tick finds the due SOP slots (plan cron in each
// group's time zone, journey steps), expands each slot into one delivery per
// target, and runs every delivery through the same state machine as the bus
// requests (DeliveryRequested, ModerationHit, MemberJoined):
//
//	claim (conditional put) → policies → mark send-started → send → confirm
//
// so that a group is posted to at most once: two racing ticks claim the same
// deterministic delivery id and only one wins; a crash between send and
// confirm leaves the delivery claimed with its send-started mark, and the
// next tick turns it into unknown, raises the DeliveryUnknown metric and
// asks for an alert to moderators — it never sends it again.
//
// Policies run before any send and record why a delivery was skipped: group
// dismissed or paused; noisy (SOP content only, as the group's onNoisy
// says); quiet hours; the budget of the delivery's class (class.go,
// docs/deliveries.md: SOP content and session messages each have their own
// daily cap, alerts and staff messages none) and the platform's monthly cap
// for customer groups (days in the month), which binds every class;
// per-member fatigue for 1:1 messages; the OA customer-service 48-hour
// window and its 5 messages. Caps are counters reserved with conditional
// writes, so concurrent pushes cannot exceed them, and given back when a
// send fails.
//
// Channels: a group of a WeCom account is a customer group (a task the
// owner confirms: task_created → sent / not_sent / expired, reminded at most
// 3 times in 24 h) unless tagged "internal" (appchat); a group of a
// wecom-bot account gets the posts of its own robot (the webhook the group
// names), a relay account's through its bridge (posted again under the same
// id while the bridge does not answer: it deduplicates). A member of an OA
// gets a customer-service message, of WeCom a 1:1 task, of a relay group
// their welcome in the group; staff get WeCom app messages. Anything else
// is skipped with no_channel.
//
// Push also reads WeCom customer groups from WeChat (groupsync.go), on the
// callback's GroupSyncRequested and every night: a group's owner is who
// confirms its tasks, and an owner change moves its open ones.
//
// Every invocation emits DeliveriesSent, TasksCreated, DeliveriesSkipped,
// DeliveriesFailed and DeliveriesDeferred, plus DeliveryUnknown when a
// delivery is left unknown (namespace Qunyun, dimension Stage).
//
// Trust (DESIGN.md §5): only operator content (the catalog's, by id) is a
// template and gets tracked links. Inline content, rendered by the function
// that asked (alerts, session queues and recaps), is sent as it is; names
// and members' text quoted in our messages have their links broken
// (moderation.Defang), so a member's link is never clickable from us nor
// a redirect on our domain.
//
// The package must not talk HTTP itself (channels in wechatapi do), read the
// environment, or hold global state; the clock, table, channels and bus are
// injected so tests, the CLI and the local stack run the same code.
package push

import (
	"context"
	_ "embed"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"text/template"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/qunyun/qunyun/internal/accounts"
	"github.com/qunyun/qunyun/internal/bus"
	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/metrics"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/wechatapi"
)

// Channel is one way of reaching a target (implemented in wechatapi). A
// non-empty task id means the message waits for the WeCom sender to confirm.
type Channel interface {
	Send(ctx context.Context, a qunyun.Account, to wechatapi.Target, m wechatapi.Message) (taskID string, err error)
}

// Channels are the channels push chooses from (see channelFor).
type Channels struct {
	CustomerGroups  Channel // WeCom customer groups: add_msg_template task
	InternalGroups  Channel // WeCom internal groups (tag "internal"): appchat
	Robot           Channel // a wecom-bot group's own robot (Target.Webhook)
	Relay           Channel // a relay account
	Staff           Channel // WeCom app messages to staff
	CustomerService Channel // OA customer-service messages
	CustomerTasks   Channel // WeCom 1:1 to an external contact: a task
}

// NewChannels builds every channel on one client.
func NewChannels(c *wechatapi.Client) Channels {
	return Channels{
		CustomerGroups:  wechatapi.CustomerGroupTasks{Client: c},
		InternalGroups:  wechatapi.AppChat{Client: c},
		Robot:           wechatapi.Robot{Client: c},
		Relay:           wechatapi.Relay{Client: c},
		Staff:           wechatapi.StaffMessages{Client: c},
		CustomerService: wechatapi.CustomerService{Client: c},
		CustomerTasks:   wechatapi.CustomerTasks{Client: c},
	}
}

// TaskAPI follows WeCom tasks after they are created.
type TaskAPI interface {
	GroupMsgSendResult(ctx context.Context, a qunyun.Account, msgID, sender string) ([]wechatapi.TaskResult, error)
	RemindGroupMsgSend(ctx context.Context, a qunyun.Account, msgID string) error
	CancelGroupMsgSend(ctx context.Context, a qunyun.Account, msgID string) error
}

var _ TaskAPI = (*wechatapi.Client)(nil)

// Stores are the parts of the table push uses, each an interface of its
// own; main gives it the dynamo stores.
type Stores struct {
	Catalog    Catalog
	Deliveries Deliveries
	Log        Log
	Links      Links
	Moderation Moderation
	Membership Membership
}

// Membership recounts a group's members after a WeCom group sync wrote
// them as WeChat lists them (dynamo.Membership).
type Membership interface {
	RecountMembers(ctx context.Context, groupID string) (n int, changed bool, err error)
}

// Catalog is what push reads of the community: groups, members, plans
// and contents, and the groups and members a WeCom group sync corrects
// (dynamo.Catalog).
type Catalog interface {
	Content(ctx context.Context, id string) (qunyun.Content, bool, error)
	Group(ctx context.Context, id string) (qunyun.Group, bool, error)
	Contents(ctx context.Context) ([]qunyun.Content, error)
	Groups(ctx context.Context) ([]qunyun.Group, error)
	Members(ctx context.Context, groupID string) ([]qunyun.Member, error)
	Plans(ctx context.Context) ([]qunyun.Plan, error)
	// What the group sync writes: members WeChat lists or no longer lists,
	// then the group's name and owner (Membership recounts its members).
	UpdateMember(ctx context.Context, groupID, memberID string, fn func(m *qunyun.Member, found bool) error) (qunyun.Member, error)
	UpdateGroup(ctx context.Context, id string, fn func(g *qunyun.Group, found bool) error) (qunyun.Group, error)
}

// Deliveries is the delivery state machine's store: claims, conditional
// transitions, cap counters, requests and the tick's cursor
// (dynamo.Deliveries).
type Deliveries interface {
	AdvanceCursor(ctx context.Context, function, kind string, at time.Time) error
	ClaimDelivery(ctx context.Context, it qunyun.DeliveryRecord) (claimed bool, stored qunyun.DeliveryRecord, err error)
	Cursor(ctx context.Context, function, kind string) (time.Time, error)
	DayDeliveries(ctx context.Context, date string, state qunyun.DeliveryState) ([]qunyun.DeliveryRecord, error)
	GetDelivery(ctx context.Context, d qunyun.Delivery) (qunyun.DeliveryRecord, bool, error)
	OpenTasks(ctx context.Context, date string, minute int) ([]qunyun.DeliveryRecord, error)
	ReleaseCap(ctx context.Context, c qunyun.CapCounter, holder string) error
	RequestedDelivery(ctx context.Context, d qunyun.Delivery) (time.Time, error)
	ReserveCap(ctx context.Context, c qunyun.CapCounter, max int, ttl time.Duration, holder string) (bool, error)
	UnannouncedDeliveries(ctx context.Context, date string) ([]qunyun.DeliveryRecord, error)
	UpdateDelivery(ctx context.Context, it *qunyun.DeliveryRecord, fn func(d *qunyun.Delivery)) (changed bool, err error)
}

// Log is what push reads of what members did: a person's last message,
// which opens the customer-service window (dynamo.Log).
type Log interface {
	LastMessageSince(ctx context.Context, accountID, memberID string, since time.Time) (time.Time, error)
}

// Links is where push files the tracked links it sends (dynamo.Links).
type Links interface {
	PutLink(ctx context.Context, l qunyun.Link) error
}

// Moderation batches moderation hits into alerts, opens their cases and
// reads both back for a burst's summary (dynamo.Moderation).
type Moderation interface {
	AddHit(ctx context.Context, groupID string, window time.Time, s qunyun.ModerationSample, escalateAfter int) (qunyun.ModerationBatch, []int, error)
	Batch(ctx context.Context, groupID string, window time.Time) (qunyun.ModerationBatch, bool, error)
	OpenCase(ctx context.Context, c qunyun.ModerationCase) error
	Case(ctx context.Context, code string) (qunyun.ModerationCase, bool, error)
}

// Publisher puts events on the bus (bus.Publisher implements it).
type Publisher interface {
	Publish(ctx context.Context, events ...bus.Event) error
}

// Service is PushFunction's logic.
type Service struct {
	Store    Stores
	Accounts accounts.Directory
	Channels Channels
	Tasks    TaskAPI
	// GroupChats reads WeCom customer groups (nil: no group sync).
	GroupChats GroupChats
	Bus        Publisher
	Metrics    *metrics.Emitter
	Clock      clock.Clock
	// PublicBaseURL is where tracked links point (${PUBLIC_BASE_URL}/r/<code>).
	PublicBaseURL string
	// StaffAccount is the WeCom app that messages staff when the group's own
	// account cannot (default: the first WeCom account in the directory).
	StaffAccount string
	Log          *slog.Logger

	// MaxCatchUp bounds how far back a late tick goes (default 60 min):
	// content due hours ago is stale, not worth sending.
	MaxCatchUp time.Duration
	// StaleAfter is how old a claim must be before another invocation
	// judges it abandoned (default 2 min: longer than a Lambda runs).
	StaleAfter time.Duration
	// RemindEvery spaces task reminders (default 2 h, at most 3); TaskExpiry
	// ends an unconfirmed task (default 24 h).
	RemindEvery, TaskExpiry time.Duration
	// RetryWindow is how long after its slot a delivery that could not be
	// sent (throttled, WeChat unreachable) is still retried (default 1 h).
	RetryWindow time.Duration
	// Workers send in parallel within one invocation (default 16).
	Workers int
	// AlertWindow batches a group's moderation hits into one alert
	// (default 10 min); EscalateAfter more hits in the window send one
	// follow-up with the total (default 10; negative: none). When the
	// window closes its moderators get one summary (moderation_summary.go).
	AlertWindow   time.Duration
	EscalateAfter int

	// crashAfterSend simulates a process dying between send and confirm
	// (tests only, see export_test.go).
	crashAfterSend func(qunyun.Delivery) bool

	// memory is what a warm container remembers between ticks (tickcache.go).
	memory tickMemory

	textsOnce sync.Once
	texts     map[string]*template.Template
	signals   map[string]string
	actions   map[string]string
	textsErr  error
}

//go:embed texts.yaml
var textsYAML []byte

func (s *Service) now() time.Time { return s.Clock.Now().UTC() }

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

func (s *Service) maxCatchUp() time.Duration { return orDuration(s.MaxCatchUp, 60*time.Minute) }
func (s *Service) staleAfter() time.Duration { return orDuration(s.StaleAfter, 2*time.Minute) }
func (s *Service) remindEvery() time.Duration {
	return orDuration(s.RemindEvery, 2*time.Hour)
}
func (s *Service) retryWindow() time.Duration { return orDuration(s.RetryWindow, time.Hour) }
func (s *Service) taskExpiry() time.Duration  { return orDuration(s.TaskExpiry, 24*time.Hour) }
func (s *Service) workers() int {
	if s.Workers > 0 {
		return s.Workers
	}
	return 16
}

func orDuration(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// texts is the embedded texts.yaml.
type texts struct {
	Signals   map[string]string `yaml:"signals"`
	Actions   map[string]string `yaml:"actions"`
	Templates map[string]string `yaml:"templates"`
}

func (s *Service) loadTexts() error {
	s.textsOnce.Do(func() {
		var raw texts
		if err := yaml.Unmarshal(textsYAML, &raw); err != nil {
			s.textsErr = fmt.Errorf("push texts.yaml: %w", err)
			return
		}
		s.signals, s.actions = raw.Signals, raw.Actions
		s.texts = map[string]*template.Template{}
		for k, v := range raw.Templates {
			t, err := template.New(k).Parse(v)
			if err != nil {
				s.textsErr = fmt.Errorf("push texts.yaml %s: %w", k, err)
				return
			}
			s.texts[k] = t
		}
	})
	return s.textsErr
}

// text renders one of the embedded templates.
func (s *Service) text(name string, data any) (string, error) {
	if err := s.loadTexts(); err != nil {
		return "", err
	}
	t := s.texts[name]
	if t == nil {
		return "", fmt.Errorf("push texts.yaml: no template %q", name)
	}
	return execute(t, data)
}

// signalNames turns moderation signal codes into their names, joined.
func (s *Service) signalNames(codes []string) string {
	if s.loadTexts() != nil {
		return strings.Join(codes, "、")
	}
	names := make([]string, 0, len(codes))
	for _, c := range codes {
		names = append(names, orString(s.signals[c], c))
	}
	return strings.Join(names, "、")
}
