package local

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/qunyun/qunyun/internal/local/runner"
)

// build builds every function's bootstrap, all in one go build, into
// BinDir/<LogicalId>/bootstrap and returns the binaries by function.
func (s *Stack) build(ctx context.Context) (map[string]string, error) {
	pkgOf := map[string]string{}
	var pkgs []string
	for _, fn := range s.tpl.Functions {
		pkg := s.cfg.Package(fn.LogicalID)
		if files, _ := filepath.Glob(filepath.Join(s.cfg.Root, pkg, "*.go")); len(files) == 0 {
			s.missing[fn.LogicalID] = fmt.Sprintf("function %s has no code yet (%s)", fn.LogicalID, pkg)
			s.log.Warn("function not built: no Go files; its invocations fail", "function", fn.LogicalID, "package", pkg)
			continue
		}
		if !slices.Contains(pkgs, pkg) {
			pkgs = append(pkgs, pkg)
		}
		pkgOf[fn.LogicalID] = pkg
	}
	if len(pkgs) == 0 {
		return nil, nil
	}
	start := time.Now() // wallclock: start-up duration, for the log
	if err := os.MkdirAll(s.cfg.BinDir, 0o755); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	// Into BinDir itself, the same folder every time: go build then relinks
	// only what changed, and `make run` has already built the functions
	// there together with the CLI, so this is a check of a second or less.
	// The lock makes another stack building into the same BinDir wait.
	unlock, err := runner.LockDir(s.cfg.BinDir)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	defer unlock()
	var built map[string]string
	if s.cfg.Prebuilt {
		built, err = runner.Built(s.cfg.BinDir, pkgs)
	} else {
		built, err = runner.BuildAll(ctx, s.cfg.Root, s.cfg.BinDir, pkgs)
	}
	if err != nil {
		return nil, err
	}
	binaries := map[string]string{}
	for id, pkg := range pkgOf {
		bin := filepath.Join(s.cfg.BinDir, id, "bootstrap")
		if err := installBinary(built[pkg], bin); err != nil {
			return nil, fmt.Errorf("install %s: %w", id, err)
		}
		binaries[id] = bin
	}
	s.log.Info("functions built", "packages", len(pkgs), "seconds", time.Since(start).Round(time.Millisecond).Seconds())
	return binaries, nil
}

// installBinary installs a built binary as a fresh file (not an overwrite),
// so a process still running the old one is not disturbed: a hard link
// where the file system allows (go build replaces its outputs rather than
// rewriting them, so the link keeps this build's bytes), else a copy. The
// session and scoring binaries carry the segmenter's dictionaries (60 MB
// each): linking saves about a second of every start.
func installBinary(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp := dst + ".new"
	os.Remove(tmp)
	if err := os.Link(src, tmp); err != nil {
		data, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		if err := os.WriteFile(tmp, data, 0o755); err != nil {
			return err
		}
	}
	return os.Rename(tmp, dst)
}

// startPools makes each built function's process pool with its local
// environment.
func (s *Stack) startPools(binaries map[string]string) error {
	for _, fn := range s.tpl.Functions {
		bin, ok := binaries[fn.LogicalID]
		if !ok {
			continue
		}
		e := s.Endpoints()
		e.DynamoDB = s.functionsDynamoDB()
		env, err := FunctionEnv(s.tpl, fn, e)
		if err != nil {
			return err
		}
		s.pools[fn.LogicalID] = runner.NewPool(runner.Function{
			Name: fn.LogicalID, Binary: bin, Env: env, Timeout: time.Duration(fn.Timeout) * time.Second,
			MaxProcs: cmp.Or(s.cfg.MaxProcs, DefaultMaxProcs), Log: s.cfg.Log,
		})
	}
	return nil
}
