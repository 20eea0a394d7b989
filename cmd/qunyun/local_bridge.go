package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/qunyun/qunyun/internal/local/bridge"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// bridgePost is a post as `local bridge --json` prints it: the bridge's
// listing without the raw body, whose keys are the relay protocol's.
type bridgePost struct {
	Account    string    `json:"account"`
	ReceivedAt time.Time `json:"receivedAt"`
	ID         string    `json:"id"`
	GroupID    string    `json:"groupId"`
	Kind       string    `json:"kind"`
	Text       string    `json:"text"`
	URL        string    `json:"url,omitempty"`
}

func newLocalBridgeCmd() *cobra.Command {
	var stackPath, tz string
	cmd := &cobra.Command{
		Use:   "bridge",
		Short: "List what push posted to the relay groups through the local stack's bridge",
		Long: `Bridge lists the messages the running local stack's relay bridge took
(GET /_local/bridge): what push posted to the relay groups, once per
delivery id, with the time it arrived on the stack's clock. A relay account
posts there when its webhook is <gateway>/_bridge/relay/<account>, as the
demo's demo-relay does (infra/local/accounts.json).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			loc, err := time.LoadLocation(tz)
			if err != nil {
				return fmt.Errorf("--tz %q: expected an IANA time zone such as Asia/Shanghai", tz)
			}
			st, ok, err := readStack(stackPath)
			if err != nil {
				return err
			}
			if !ok || st.Gateway == "" {
				return fmt.Errorf("no running local stack (%s not found): start one with `make run`", stackPath)
			}
			l, err := readBridge(cmd.Context(), st.Gateway)
			if err != nil {
				return err
			}
			posts := make([]bridgePost, 0, len(l.Posts))
			rows := make([][]string, 0, len(l.Posts))
			for _, p := range l.Posts {
				posts = append(posts, bridgePost{Account: p.Account, ReceivedAt: p.ReceivedAt, ID: p.ID, GroupID: p.GroupID,
					Kind: p.Kind, Text: p.Text, URL: p.URL})
				rows = append(rows, []string{p.ReceivedAt.In(loc).Format("2006-01-02 15:04:05"), p.GroupID, p.Kind,
					excerpt(p.Text+" "+p.URL, 60), p.ID})
			}
			if wantJSON(cmd) {
				return printJSON(cmd.OutOrStdout(), posts)
			}
			if len(rows) == 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), "the bridge has taken no post yet")
				return nil
			}
			return printTable(cmd.OutOrStdout(), []string{"RECEIVED", "GROUP", "KIND", "TEXT", "DELIVERY"}, rows)
		},
	}
	cmd.Flags().StringVar(&stackPath, "stack", localStackFile, "the running local stack's file")
	cmd.Flags().StringVar(&tz, "tz", qunyun.DefaultTimeZone, "time zone of the times shown")
	jsonFlag(cmd)
	return cmd
}

// readBridge fetches the stack's bridge listing.
func readBridge(ctx context.Context, gateway string) (bridge.Listing, error) {
	var l bridge.Listing
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(gateway, "/")+"/_local/bridge", nil)
	if err != nil {
		return l, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return l, fmt.Errorf("%w (is the local stack running? start it with `make run`)", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return l, fmt.Errorf("%s/_local/bridge answered %s", gateway, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(&l); err != nil {
		return l, errors.New("the stack's /_local/bridge answered something else than a listing: " + err.Error())
	}
	return l, nil
}

// excerpt is s on one line, at most n characters.
func excerpt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
