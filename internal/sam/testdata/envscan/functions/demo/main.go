// Fixture for TestEnvScanFindsUndeclared: a function that reads DECLARED
// itself and, through internal/conf, two more variables.
package main

import (
	"os"

	"github.com/qunyun/qunyun/internal/conf"
)

func main() {
	_ = os.Getenv("DECLARED")
	conf.Load(os.Getenv)
}
