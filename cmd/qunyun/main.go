// Command qunyun is the operator CLI: it applies community.yaml, shows what
// the system stored, writes reports, splits member lists, promotes and
// demotes members, runs the local stack, invokes one function, simulates a
// community and runs load.
//
// Each command lives in its own file as a newXxxCmd constructor; newRoot
// lists them all, so this file shows the whole CLI at a glance.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "qunyun",
		Short:         "Qunyun (群运) operator CLI and local stack",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newApplyCmd(),
		newGetCmd(),
		newExportCmd(),
		newReportCmd(),
		newPlanCmd(), // preview or book a week's host rotation
		newContestCmd(),
		newSplitCmd(),
		newPromoteCmd(), // a leader candidate becomes moderator or editor
		newDemoteCmd(),
		newModerationCmd(),    // answer a moderation alert by its code
		newContentCmd(),       // review members' contributions
		newLocalCmd(demoHook), // local up applies the demo community unless --no-demo
		newInvokeCmd(),
		newSimulateCmd(),
		newLoadCmd(),
	)
	return root
}

func main() {
	if err := newRoot().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "qunyun:", err)
		os.Exit(1)
	}
}
