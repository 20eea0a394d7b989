package wechat_test

import (
	"errors"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/wechat"
)

// docExample reads the worked example out of docs/relay-protocol.md, so the
// page is checked, not a copy of it.
func docExample(t *testing.T) (secret, timestamp, signature string, bodies []string) {
	t.Helper()
	doc, err := os.ReadFile("../../docs/relay-protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	field := func(name string) string {
		m := regexp.MustCompile("(?m)^- " + name + ": `([^`]+)`").FindSubmatch(doc)
		if m == nil {
			t.Fatalf("doc has no %q line", name)
		}
		return string(m[1])
	}
	for _, m := range regexp.MustCompile("(?s)```json\n(.*?)\n```").FindAllSubmatch(doc, -1) {
		bodies = append(bodies, string(m[1]))
	}
	if len(bodies) < 2 {
		t.Fatalf("doc has %d json examples", len(bodies))
	}
	return field("secret"), field("timestamp"), field("signature"), bodies
}

func TestRelayDocWorkedExample(t *testing.T) {
	secret, ts, sig, bodies := docExample(t)
	body := []byte(bodies[0])
	if got := wechat.SignRelay([]byte(secret), ts, body); got != sig {
		t.Fatalf("SignRelay = %s, doc says %s", got, sig)
	}
	// The value openssl printed when the doc was written, as a third witness.
	if sig != "94d4c2aaf3169c4f6f65fbd1a34929d0243b1a74db8f2edc7d33d13ad35be366" {
		t.Errorf("doc signature changed: %s", sig)
	}
	sec, _ := strconv.ParseInt(ts, 10, 64)
	if err := wechat.VerifyRelay([]byte(secret), ts, sig, body, time.Unix(sec, 0)); err != nil {
		t.Fatal(err)
	}
	e, err := wechat.ParseRelay(body)
	if err != nil {
		t.Fatal(err)
	}
	want := &wechat.RelayEvent{ID: "bridge-7f3a9c", Type: wechat.RelayMessage, GroupID: "R:10696052955016166", GroupName: "上海读书会 3 群",
		MemberID: "wxid_abc123", MemberName: "小林", Kind: "text", Text: "@主持人 今晚几点开始？", Mentions: []string{"wxid_host01"},
		ReplyTo: "bridge-7f3a80", Time: 1763780400}
	if !reflect.DeepEqual(e, want) {
		t.Errorf("ParseRelay =\n%#v\nwant\n%#v", e, want)
	}
	if key, err := wechat.IdempotencyKey(e); err != nil || key != "bridge-7f3a9c" || e.Channel() != wechat.ChannelRelay {
		t.Errorf("IdempotencyKey = %q, %v", key, err)
	}
	for _, b := range bodies[1:] {
		if _, err := wechat.ParseRelay([]byte(b)); err != nil {
			t.Errorf("doc example %s: %v", b, err)
		}
	}
}

func TestVerifyRelayRejects(t *testing.T) {
	secret := []byte("s3cret")
	body := []byte(`{"id":"1","type":"group_created","group_id":"g","time":1}`)
	now := time.Unix(1_763_780_402, 0)
	ts := "1763780402"
	good := wechat.SignRelay(secret, ts, body)
	if err := wechat.VerifyRelay(secret, ts, strings.ToUpper(good), body, now); err != nil {
		t.Errorf("uppercase hex: %v", err)
	}
	tests := []struct {
		name    string
		secret  []byte
		ts, sig string
		body    []byte
		now     time.Time
		want    error
	}{
		{"wrong secret", []byte("other"), ts, good, body, now, wechat.ErrSignature},
		{"empty secret", nil, ts, wechat.SignRelay(nil, ts, body), body, now, wechat.ErrSignature},
		{"body changed", secret, ts, good, append([]byte(nil), append(body, ' ')...), now, wechat.ErrSignature},
		{"timestamp changed", secret, "1763780403", good, body, now, wechat.ErrSignature},
		{"signature not hex", secret, ts, "zz", body, now, wechat.ErrSignature},
		{"signature empty", secret, ts, "", body, now, wechat.ErrSignature},
		{"signature truncated", secret, ts, good[:62], body, now, wechat.ErrSignature},
		{"301 s late", secret, ts, good, body, now.Add(301 * time.Second), wechat.ErrTimestamp},
		{"301 s early", secret, ts, good, body, now.Add(-301 * time.Second), wechat.ErrTimestamp},
		{"timestamp missing", secret, "", good, body, now, wechat.ErrTimestamp},
		{"timestamp in ms", secret, "1763780402000", good, body, now, wechat.ErrTimestamp},
		{"too large", secret, ts, good, make([]byte, wechat.MaxBodySize+1), now, wechat.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := wechat.VerifyRelay(tt.secret, tt.ts, tt.sig, tt.body, tt.now); !errors.Is(err, tt.want) {
				t.Errorf("VerifyRelay = %v, want %v", err, tt.want)
			}
		})
	}
	for _, d := range []time.Duration{-300 * time.Second, 300 * time.Second} {
		if err := wechat.VerifyRelay(secret, ts, good, body, now.Add(d)); err != nil {
			t.Errorf("skew %v: %v", d, err)
		}
	}
}

func TestParseRelay(t *testing.T) {
	tests := []struct {
		name string
		body string
		want error
	}{
		{"member left", `{"id":"a","type":"member_left","group_id":"g","member_id":"m","actor_id":"o","time":5}`, nil},
		{"group renamed", `{"id":"a","type":"group_renamed","group_id":"g","group_name":"新名字","time":5}`, nil},
		{"group dismissed", `{"id":"a","type":"group_dismissed","group_id":"g","time":5}`, nil},
		{"unknown fields ignored", `{"id":"a","type":"group_created","group_id":"g","time":5,"extra":{"x":1}}`, nil},
		{"no id", `{"type":"group_created","group_id":"g","time":5}`, wechat.ErrMissingField},
		{"id too long", `{"id":"` + strings.Repeat("x", 129) + `","type":"group_created","group_id":"g","time":5}`, wechat.ErrInvalid},
		{"no type", `{"id":"a","group_id":"g","time":5}`, wechat.ErrMissingField},
		{"unknown type", `{"id":"a","type":"poke","group_id":"g","time":5}`, wechat.ErrInvalid},
		{"no group", `{"id":"a","type":"group_created","time":5}`, wechat.ErrMissingField},
		{"no time", `{"id":"a","type":"group_created","group_id":"g"}`, wechat.ErrMissingField},
		{"negative time", `{"id":"a","type":"group_created","group_id":"g","time":-1}`, wechat.ErrMissingField},
		{"message without member", `{"id":"a","type":"message","group_id":"g","kind":"text","time":5}`, wechat.ErrMissingField},
		{"message without kind", `{"id":"a","type":"message","group_id":"g","member_id":"m","time":5}`, wechat.ErrMissingField},
		{"join without member", `{"id":"a","type":"member_joined","group_id":"g","time":5}`, wechat.ErrMissingField},
		{"rename without name", `{"id":"a","type":"group_renamed","group_id":"g","time":5}`, wechat.ErrMissingField},
		{"time as string", `{"id":"a","type":"group_created","group_id":"g","time":"5"}`, wechat.ErrJSON},
		{"mentions not a list", `{"id":"a","type":"group_created","group_id":"g","time":5,"mentions":"x"}`, wechat.ErrJSON},
		{"truncated", `{"id":"a","type":"group_cr`, wechat.ErrJSON},
		{"two objects", `{"id":"a"}{"id":"b"}`, wechat.ErrJSON},
		{"empty", ``, wechat.ErrJSON},
		{"invalid UTF-8", "{\"id\":\"a\",\"type\":\"group_renamed\",\"group_id\":\"g\",\"group_name\":\"\xc3\",\"time\":5}", wechat.ErrJSON},
		{"null", `null`, wechat.ErrMissingField},
		{"too large", `"` + strings.Repeat("a", wechat.MaxBodySize) + `"`, wechat.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := wechat.ParseRelay([]byte(tt.body))
			if !errors.Is(err, tt.want) {
				t.Errorf("ParseRelay = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestCheckRelayTime(t *testing.T) {
	now := time.Unix(1_763_780_402, 0)
	for _, tt := range []struct {
		name string
		time int64
		ok   bool
	}{
		{"now", now.Unix(), true},
		{"10 min ago", now.Unix() - 600, true},
		{"10 min ahead", now.Unix() + 600, true},
		{"10 min 1 s ago", now.Unix() - 601, false},
		{"10 min 1 s ahead", now.Unix() + 601, false},
		{"in milliseconds", now.UnixMilli(), false},
		{"near the int64 limit", 1<<63 - 1, false},
	} {
		err := wechat.CheckRelayTime(&wechat.RelayEvent{ID: "x", Time: tt.time}, now)
		if tt.ok != (err == nil) || (err != nil && !errors.Is(err, wechat.ErrInvalid)) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}
