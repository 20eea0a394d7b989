package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/spf13/cobra"

	"github.com/qunyun/qunyun/internal/bus"
	"github.com/qunyun/qunyun/internal/contribution"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/moderation"
	"github.com/qunyun/qunyun/internal/qunyun"
)

func newContentCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "content review", Short: "Work on the content library (members' contributions)", Args: cobra.NoArgs}
	cmd.AddCommand(newReviewCmd())
	return cmd
}

// newReviewCmd lists the drafts editors submitted from WeChat and approves
// or rejects them; the contributor is told through push.
func newReviewCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "review [approve <id> | reject <id> --reason ...]",
		Short: "List members' drafts; approve or reject one (the contributor is told)",
		Long: `Review lists the contributions editors submitted (「投稿 …」 to the bot, the
WeCom app or in a relay group) that wait for staff. Approve makes one
pickable by plans (a plan with contentTags: [投稿], or "*") and counts it
toward the contributor's level; reject needs --reason, which the contributor
reads. Either way the contributor is told through push, when a bus is
configured (--bus, else the running local stack's).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			t, err := openTable(ctx, cmd)
			if err != nil {
				return err
			}
			drafts, err := dynamo.Contributions{Table: t}.Drafts(ctx)
			if err != nil {
				return tableError(cmd, err)
			}
			if wantJSON(cmd) {
				return printJSON(cmd.OutOrStdout(), drafts)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tBY\tGROUP\tSUBMITTED\tTEXT")
			for _, c := range drafts {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", c.ID, c.Contribution.MemberID, c.Contribution.GroupID,
					c.Contribution.SubmittedAt.Format("2006-01-02 15:04"), moderation.Excerpt(c.Text, 40))
			}
			return w.Flush()
		},
	}
	jsonFlag(cmd)
	tableFlags(cmd)
	busFlags(cmd)
	cmd.AddCommand(reviewCmd(true), reviewCmd(false))
	return cmd
}

func reviewCmd(approve bool) *cobra.Command {
	var by, reason string
	use, short := "approve <id>", "Approve a draft: plans may pick it; it counts toward the contributor's level"
	if !approve {
		use, short = "reject <id> --reason ...", "Reject a draft, saying why (the contributor reads it)"
	}
	cmd := &cobra.Command{
		Use: use, Short: short, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if by == "" {
				return fmt.Errorf("--by is empty and $USER is not set: say who reviews")
			}
			if !approve && reason == "" {
				return fmt.Errorf("--reason is required: the contributor reads why; nothing changed")
			}
			texts, err := contribution.DefaultTexts()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			t, err := openTable(ctx, cmd)
			if err != nil {
				return err
			}
			c, err := dynamo.Contributions{Table: t}.Review(ctx, args[0], approve, by, t.Now().UTC(), reason)
			if err != nil {
				return tableError(cmd, err)
			}
			tpl := texts.Replies.Approved
			if !approve {
				tpl = texts.Replies.Rejected
			}
			notice, err := texts.Render(tpl, c.ID, reason)
			if err != nil {
				return err
			}
			told, err := tellContributor(ctx, cmd, c, notice)
			if err != nil {
				return fmt.Errorf("%s is %s, but telling the contributor failed: %w", c.ID, c.Contribution.State, err)
			}
			line := fmt.Sprintf("%s: %s by %s", c.ID, c.Contribution.State, by)
			if !told {
				line += " (no bus configured: the contributor was not told)"
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), line)
			return err
		},
	}
	cmd.Flags().StringVar(&by, "by", os.Getenv("USER"), "who reviews, for the record (default $USER)")
	if !approve {
		cmd.Flags().StringVar(&reason, "reason", "", "why, told to the contributor")
	}
	jsonFlag(cmd)
	tableFlags(cmd)
	busFlags(cmd)
	return cmd
}

// tellContributor asks push to send the review's notice to the
// contributor where they submitted: the group for a group submission, an
// app message for a WeCom user, else 1:1. The request id is the review's,
// so running the command's notice again sends nothing twice.
func tellContributor(ctx context.Context, cmd *cobra.Command, c qunyun.Content, text string) (bool, error) {
	pub, err := openBus(ctx, cmd)
	if err != nil || pub == nil {
		return false, err
	}
	k := c.Contribution
	req := qunyun.DeliveryRequest{ID: "contribution-review/" + c.ID, Source: "contribution", AccountID: k.AccountID,
		Content: &qunyun.Content{ID: "contribution-review", Kind: qunyun.ContentText, Text: text}}
	switch {
	case k.Channel == qunyun.ChannelRelay || k.Channel == qunyun.ChannelWeComBot:
		req.TargetKind, req.TargetID, req.GroupID = qunyun.TargetGroup, k.GroupID, k.GroupID
	case k.Channel == qunyun.ChannelWeCom:
		req.TargetKind, req.TargetID = qunyun.TargetStaff, cmp.Or(k.From, k.MemberID)
	default:
		req.TargetKind, req.TargetID = qunyun.TargetMember, cmp.Or(k.From, k.MemberID)
	}
	return true, pub.Publish(ctx, bus.Event{DetailType: qunyun.EventDeliveryRequested, Time: k.ReviewedAt, Detail: req})
}

func busFlags(cmd *cobra.Command) {
	cmd.Flags().String("bus", os.Getenv("EVENT_BUS_NAME"), "EventBridge bus to tell contributors through (env EVENT_BUS_NAME; else the running local stack's)")
	cmd.Flags().String("bus-endpoint", os.Getenv("AWS_ENDPOINT_URL_EVENTBRIDGE"), "EventBridge endpoint (env AWS_ENDPOINT_URL_EVENTBRIDGE; else the running local stack's)")
}

// openBus connects to the bus the flags name, else the running local
// stack's; nil when there is none.
func openBus(ctx context.Context, cmd *cobra.Command) (*bus.Publisher, error) {
	name, _ := cmd.Flags().GetString("bus")
	endpoint, _ := cmd.Flags().GetString("bus-endpoint")
	if name == "" && endpoint == "" {
		if st, ok, err := readStack(localStackFile); err != nil {
			return nil, err
		} else if ok {
			name, endpoint = st.EventBusName, st.EventBus
		}
	}
	if name == "" {
		return nil, nil
	}
	if endpoint != "" {
		client := eventbridge.New(eventbridge.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
			Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
		return &bus.Publisher{Client: client, BusName: name}, nil
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	return &bus.Publisher{Client: eventbridge.NewFromConfig(cfg), BusName: name}, nil
}
