package local

import (
	"context"
	"fmt"
	"time"

	"github.com/qunyun/qunyun/internal/local/faultproxy"
)

// startFaults starts the fault proxy Config.Faults asks for, in front of
// the stack's DynamoDB (its meter), until ctx ends. The functions talk to
// the proxy (see startPools); everything else keeps the direct endpoint.
func (s *Stack) startFaults(ctx context.Context) error {
	if s.cfg.Faults == "" {
		return nil
	}
	opts, ok, err := faultproxy.ParseSpec(s.cfg.Faults)
	if err != nil || !ok {
		return fmt.Errorf("faults %q: %v", s.cfg.Faults, err)
	}
	opts.Seed = uint64(time.Now().UnixNano()) // wallclock: a random seed
	p, err := faultproxy.New(s.meteredDynamoDB(), opts)
	if err != nil {
		return err
	}
	srv, err := faultproxy.Start("127.0.0.1:0", p)
	if err != nil {
		return err
	}
	s.faults = srv
	go func() {
		<-ctx.Done()
		stop, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Close(stop)
	}()
	s.log.Info("fault proxy in front of DynamoDB for the functions", "rate", opts.Rate, "faults", opts.Faults, "proxy", srv.URL)
	return nil
}

// FaultStats reports what the fault proxy did; ok is false without one.
func (s *Stack) FaultStats() (faultproxy.Stats, bool) {
	if s.faults == nil {
		return faultproxy.Stats{}, false
	}
	return s.faults.Stats(), true
}
