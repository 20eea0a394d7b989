package local

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/qunyun/qunyun/internal/dynamo/localtable"
	"github.com/qunyun/qunyun/internal/local/dynalite"
)

// startEngine starts dynalite at the stack's DynamoDB address, unless
// Config.DynamoEndpoint names a running engine (then it returns nil and a
// channel that never fires). died receives the engine's end.
func (s *Stack) startEngine(ctx context.Context) (engine *dynalite.Engine, died <-chan error, err error) {
	ch := make(chan error, 1)
	if s.cfg.DynamoEndpoint != "" {
		return nil, ch, nil
	}
	engine, err = dynalite.Start(ctx, dynalite.Options{
		Root: s.cfg.Root, Addr: strings.TrimPrefix(s.endpoints.DynamoDB, "http://"),
		DataDir: dataDir(s.cfg.DataDir), Log: &prefixWriter{prefix: "[dynalite] ", out: s.cfg.Log},
	})
	if err != nil {
		return nil, ch, err
	}
	go func() { ch <- engine.Wait() }()
	return engine, ch, nil
}

// createTable creates the template's table in the stack's engine.
func (s *Stack) createTable(ctx context.Context) error {
	db := localtable.Client(s.endpoints.DynamoDB)
	if err := localtable.CreateTable(ctx, db, s.tpl.Tables[0], s.endpoints.TableName); err != nil {
		return fmt.Errorf("create table %s on %s: %w", s.endpoints.TableName, s.endpoints.DynamoDB, err)
	}
	s.log.Info("table ready; TTL and point-in-time recovery skipped (dynalite lacks them)",
		"table", s.endpoints.TableName, "ttlAttribute", s.tpl.Tables[0].TTLAttribute)
	return nil
}

// dataDir maps Config.DataDir's "-" (in memory) to dynalite.Options'.
func dataDir(d string) string {
	if d == "-" {
		return ""
	}
	return d
}

// prefixWriter prefixes each write (the engine writes whole lines) with the
// engine's name.
type prefixWriter struct {
	prefix string
	out    io.Writer
}

func (w *prefixWriter) Write(b []byte) (int, error) {
	io.WriteString(w.out, w.prefix)
	return w.out.Write(b)
}
