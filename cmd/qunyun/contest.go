package main

import (
	"fmt"
	"os"
	"slices"

	"github.com/spf13/cobra"

	"github.com/qunyun/qunyun/internal/contest"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

func newContestCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "contest import-likes",
		Short: "Work on OA comment contests (留言活动)",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newImportLikesCmd())
	return cmd
}

// newImportLikesCmd is how likes reach a contest: the comment API returns
// none, so the operator exports them and imports the CSV before the night
// ranks the entries.
func newImportLikesCmd() *cobra.Command {
	var id, file string
	cmd := &cobra.Command{
		Use:   "import-likes --contest <id> -f likes.csv",
		Short: "Import the likes of a contest's comments from a CSV export",
		Long: `Import-likes stores the likes per comment on the contest's entries; the next
scoring night ranks the entries by likes plus members' votes.

The CSV has a header row naming an id column (编号, 留言编号, user_comment_id,
comment_id or id) and a likes column (点赞, 点赞数, 赞, likes, like_num or like);
other columns are ignored. Every row is checked first: a bad number, a
comment that is not an entry of the contest or one listed twice rejects the
whole file, and nothing is written.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := os.Open(file)
			if err != nil {
				return fmt.Errorf("-f %s: %w", file, err)
			}
			defer f.Close()
			ctx := cmd.Context()
			t, err := openTable(ctx, cmd)
			if err != nil {
				return err
			}
			contests, err := dynamo.Catalog{Table: t}.Contests(ctx)
			if err != nil {
				return tableError(cmd, err)
			}
			if !slices.ContainsFunc(contests, func(c qunyun.Contest) bool { return c.ID == id }) {
				return fmt.Errorf("--contest %q: no such contest (qunyun apply defines contests); nothing imported", id)
			}
			n, err := contest.ImportLikes(ctx, dynamo.Scores{Table: t}, id, f)
			if err != nil {
				return fmt.Errorf("%s: %w", file, tableError(cmd, err))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "imported the likes of %d comments into contest %s\n", n, id)
			return nil
		},
	}
	cmd.Flags().StringVar(&id, "contest", "", "the contest's id")
	cmd.Flags().StringVarP(&file, "file", "f", "", "the likes CSV")
	cmd.MarkFlagRequired("contest")
	cmd.MarkFlagRequired("file")
	tableFlags(cmd)
	return cmd
}
