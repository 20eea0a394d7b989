package simulate

import (
	"strings"
	"testing"
)

// A task's random choices (does its owner confirm, when) must not depend on
// the free port the simulation's stack listens on, which its tracked links
// carry: with it in the key, one seed gave 0 or 15 link opens.
func TestTaskKeyIgnoresTheStackAddress(t *testing.T) {
	body := func(base string) []byte {
		return []byte(`{"attachments":[{"link":{"title":"会员专享","url":"` + base + `/r/xrvfc74aqfepbdmp"}}],"chat_id_list":["g-vip-1"]}`)
	}
	a := taskKey("http://127.0.0.1:42149", []string{"g-vip-1"}, body("http://127.0.0.1:42149"))
	b := taskKey("http://127.0.0.1:35499", []string{"g-vip-1"}, body("http://127.0.0.1:35499"))
	if a != b {
		t.Errorf("keys differ with the port:\n%s\n%s", a, b)
	}
	if c := taskKey("http://127.0.0.1:35499", []string{"g-vip-1"}, []byte(strings.Replace(string(body("http://127.0.0.1:35499")), "xrvfc", "abcde", 1))); c == b {
		t.Error("tasks with different links got the same key")
	}
}
