// Package conf is a fixture: it reads one undeclared variable through a
// constant and a getenv func value, and one through a config-style method.
package conf

import "os"

const EnvUndeclared = "UNDECLARED"

type env struct{}

func (env) Required(name string) string { return name }

func Load(getenv func(string) string) {
	getenv(EnvUndeclared)
	env{}.Required("HIDDEN_LIMIT")
	name := "DYNAMIC"
	os.Getenv(name)
}
