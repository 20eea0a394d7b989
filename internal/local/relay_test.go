package local_test

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/qunyun/qunyun/internal/local"
	"github.com/qunyun/qunyun/internal/local/bridge"
	"github.com/qunyun/qunyun/internal/wechat"
)

// The stack serves a relay bridge for the accounts file's relay accounts:
// a post signed with demo-relay's key (even on another clock, as `qunyun
// invoke` replays a sample) is taken once and listed at /_local/bridge; a
// badly signed one is refused.
func TestStackServesTheRelayBridge(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st, stop := runStack(t, local.Config{
		Root: repoRoot(t), Addr: "127.0.0.1:0", BusAddr: "127.0.0.1:0", DynamoAddr: "127.0.0.1:0",
		DataDir: "-", BinDir: filepath.Join(dir, "bin"), StateFile: "-",
		Package: func(string) string { return "./internal/local/testdata/echo" },
	})
	defer stop()
	gw := st.Endpoints().Gateway
	post := func(key, id string) int {
		body := `{"id":"` + id + `","type":"send","group_id":"g-fan","kind":"text","text":"你好"}`
		ts := strconv.FormatInt(nightlyUTC.Unix(), 10)
		req, err := http.NewRequest(http.MethodPost, gw+local.BridgePath+"/relay/demo-relay", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(wechat.RelayTimestampHeader, ts)
		req.Header.Set(wechat.RelaySignatureHeader, wechat.SignRelay([]byte(key), ts, []byte(body)))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := post("demo-relay-hmac-key-not-a-secret", "d1"); got != http.StatusOK {
		t.Errorf("signed post: %d", got)
	}
	if got := post("demo-relay-hmac-key-not-a-secret", "d1"); got != http.StatusOK {
		t.Errorf("its retry: %d", got)
	}
	if got := post("wrong", "d2"); got != http.StatusUnauthorized {
		t.Errorf("badly signed post: %d, want 401", got)
	}
	res, err := http.Get(gw + "/_local/bridge")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var l bridge.Listing
	if err := json.NewDecoder(res.Body).Decode(&l); err != nil {
		t.Fatal(err)
	}
	if len(l.Posts) != 1 || l.Posts[0].ID != "d1" || l.Posts[0].Account != "demo-relay" || l.Repeats != 1 {
		t.Errorf("listing %+v, want d1 once", l)
	}
}
