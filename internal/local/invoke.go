package local

import (
	"context"
	"errors"
)

var errNotReady = errors.New("local: the stack is not up yet")

// Invoke runs a function once on payload, as `aws lambda invoke` would
// (RequestResponse), and returns its answer; a function error comes back
// as a *runtimeapi.FunctionError. It is recorded with the trigger
// "invoke". The demo runs the night's scoring this way.
func (s *Stack) Invoke(ctx context.Context, function string, payload []byte) ([]byte, error) {
	select {
	case <-s.ready:
	default:
		return nil, errNotReady
	}
	return s.invoke(ctx, "invoke", function, payload)
}
