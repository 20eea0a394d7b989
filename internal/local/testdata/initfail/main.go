// Command initfail is a test-only Lambda function whose configuration is
// always wrong: it reports the failure to the init-error endpoint and exits,
// as every real function's main does through lambdainit.
package main

import (
	"errors"

	"github.com/qunyun/qunyun/internal/lambdainit"
)

func main() {
	lambdainit.Fail(errors.New("QUNYUN_TEST_SETTING is required but not set"))
}
