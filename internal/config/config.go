// Package config reads a function's configuration from its environment and
// reports every problem at once, with the variable's name, so a broken
// deployment says exactly what is wrong. It never logs values: some are secrets.
package config

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

// Env reads variables and collects errors; check Err after reading.
type Env struct {
	getenv func(string) string
	errs   []error
}

// FromOS reads the process environment.
func FromOS() *Env { return New(os.Getenv) }

// New reads variables through getenv (a map in tests, the template's values locally).
func New(getenv func(string) string) *Env { return &Env{getenv: getenv} }

// Getenv exposes the lookup function, for packages such as clock.FromEnv.
func (e *Env) Getenv(name string) string { return e.getenv(name) }

// Required returns the variable or records that it is missing.
func (e *Env) Required(name string) string {
	v := e.getenv(name)
	if v == "" {
		e.errs = append(e.errs, fmt.Errorf("%s is required but not set", name))
	}
	return v
}

// Optional returns the variable or def when it is empty.
func (e *Env) Optional(name, def string) string {
	if v := e.getenv(name); v != "" {
		return v
	}
	return def
}

// Int returns an integer variable or def; a malformed value is an error.
func (e *Env) Int(name string, def int) int {
	v := e.getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("%s=%q: want an integer", name, v))
		return def
	}
	return n
}

// Duration returns a Go duration variable ("90s", "5m") or def.
func (e *Env) Duration(name string, def time.Duration) time.Duration {
	v := e.getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("%s=%q: want a duration such as 90s", name, v))
		return def
	}
	return d
}

// Err returns all problems joined, or nil.
func (e *Env) Err() error {
	if len(e.errs) == 0 {
		return nil
	}
	return fmt.Errorf("configuration: %w", errors.Join(e.errs...))
}
