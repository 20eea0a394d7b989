// Command qunyun is the operator CLI: it applies community.yaml, shows what
// the system stored, writes reports, splits member lists, runs the local
// stack, invokes one function, simulates a community and runs load.
//
// Each command lives in its own file and registers itself in init with
// register, so commands can be added without touching this file.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// commands are the constructors of the top-level commands.
var commands []func() *cobra.Command

func register(c func() *cobra.Command) { commands = append(commands, c) }

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "qunyun",
		Short:         "Qunyun (群运) operator CLI and local stack",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().Bool("json", false, "print JSON instead of tables")
	for _, c := range commands {
		root.AddCommand(c())
	}
	return root
}

func main() {
	if err := newRoot().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "qunyun:", err)
		os.Exit(1)
	}
}
