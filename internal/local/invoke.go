package local

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/qunyun/qunyun/internal/local/runtimeapi"
)

// Invocation records one function invocation, for /_local/invocations.
type Invocation struct {
	Function   string    `json:"function"`
	Trigger    string    `json:"trigger"` // "http", "bus" (rules and schedules), "retry N" or "invoke"
	Start      time.Time `json:"start"`
	DurationMs float64   `json:"durationMs"`
	Status     string    `json:"status"` // "ok", "error" (function error) or "failed" (could not run)
	ErrorType  string    `json:"errorType,omitempty"`
	Error      string    `json:"error,omitempty"`
}

const maxInvocations = 200

// InFlight counts the invocations started and not yet finished, waiting
// for a process included, by how they came.
type InFlight struct {
	// HTTP are the gateway's: they run on after their client has given up
	// (see syncInvoker), so only this count tells when every request sent
	// has been dealt with (qunyun load waits for it).
	HTTP int64 `json:"http"`
	// Async are the bus's and the scheduler's, retries included.
	Async int64 `json:"async"`
}

// InFlight returns the invocations in flight now.
func (s *Stack) InFlight() InFlight {
	return InFlight{HTTP: s.httpInFlight.Load(), Async: s.asyncInFlight.Load()}
}

// Invocations returns the most recent invocations, oldest first.
func (s *Stack) Invocations() []Invocation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Invocation(nil), s.invocations...)
}

// invoke runs a function and records the invocation. A function error is
// returned as a *runtimeapi.FunctionError.
func (s *Stack) invoke(ctx context.Context, trigger, function string, payload []byte) ([]byte, error) {
	inFlight := &s.asyncInFlight
	if trigger == "http" {
		inFlight = &s.httpInFlight
	}
	inFlight.Add(1)
	defer inFlight.Add(-1)
	rec := Invocation{Function: function, Trigger: trigger, Start: time.Now()} // wallclock: invocation duration, for the log
	pool := s.pools[function]
	var resp []byte
	var err error
	if pool == nil {
		why := s.missing[function]
		if why == "" {
			why = "no function " + function + " in the template"
		}
		err = errors.New(why)
		rec.Status = "failed"
	} else {
		var fnErr error
		ctx, done := s.track(ctx, trigger, function, payload)
		r, fe, ierr := pool.Invoke(ctx, payload)
		done()
		switch {
		case ierr != nil:
			err, rec.Status = ierr, "failed"
		case fe != nil:
			fnErr, rec.Status, rec.ErrorType = fe, "error", fe.ErrorType
		default:
			resp, rec.Status = r, "ok"
		}
		if fnErr != nil {
			err = fnErr
		}
	}
	rec.DurationMs = float64(time.Since(rec.Start).Microseconds()) / 1000
	if err != nil {
		rec.Error = err.Error()
	}
	s.mu.Lock()
	s.invocations = append(s.invocations, rec)
	if over := len(s.invocations) - maxInvocations; over > 0 {
		s.invocations = append([]Invocation(nil), s.invocations[over:]...)
	}
	s.mu.Unlock()
	return resp, err
}

// syncInvoker is the gateway's view of the stack: a RequestResponse invoke.
type syncInvoker struct{ s *Stack }

func (i syncInvoker) InvokeSync(ctx context.Context, function string, payload []byte) ([]byte, error) {
	// A client that hangs up does not stop the function in Lambda, and
	// killing it mid-write here would invent failures AWS never has.
	return i.s.invoke(context.WithoutCancel(ctx), "http", function, payload)
}

// busInvoker is EventBridge's and Scheduler's view: an asynchronous invoke
// whose result only matters as success or failure.
type busInvoker struct{ s *Stack }

func (i busInvoker) Invoke(ctx context.Context, function string, payload []byte) error {
	_, err := i.s.invoke(ctx, "bus", function, payload)
	var fe *runtimeapi.FunctionError
	if errors.As(err, &fe) {
		i.s.retryLater(function, payload)
	}
	return err
}

// asyncRetryDelays are Lambda's retries of a failed asynchronous
// invocation (rules and Scheduler invoke functions asynchronously; the
// template sets no EventInvokeConfig, so Lambda's defaults apply): two,
// about one and then two minutes apart, on the stack's clock. Locally they
// exercise the functions' idempotency as AWS would.
var asyncRetryDelays = []time.Duration{time.Minute, 2 * time.Minute}

// retryLater retries a failed asynchronous invocation in the background
// until it succeeds or the retries run out, then logs what AWS would send
// to the dead-letter queue.
func (s *Stack) retryLater(function string, payload []byte) {
	s.retries.Add(1)
	go func() {
		defer s.retries.Done()
		for n, d := range asyncRetryDelays {
			if err := s.sleep(s.runCtx, d); err != nil {
				return
			}
			_, err := s.invoke(s.runCtx, fmt.Sprintf("retry %d", n+1), function, payload)
			var fe *runtimeapi.FunctionError
			if !errors.As(err, &fe) {
				return
			}
		}
		s.log.Error("async invocation failed after Lambda's retries; in AWS it goes to the dead-letter queue",
			"function", function, "payload", string(payload))
	}()
}

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
