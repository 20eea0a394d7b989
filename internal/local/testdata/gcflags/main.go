// Command gcflags prints runner.BuildFlags for the runner's tests: the
// compiler and linker flags this binary was built with, as the runner passes them on.
package main

import (
	"fmt"
	"strings"

	"github.com/qunyun/qunyun/internal/local/runner"
)

func main() {
	fmt.Print(strings.Join(runner.BuildFlags(), " "))
}
