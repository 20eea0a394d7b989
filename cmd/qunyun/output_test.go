package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestProgressPlainLines(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b, "applying", 25)
	for i := 1; i <= 25; i++ {
		p.step(i, "x")
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	// One line per tenth reached, the last one at 25/25, and no terminal
	// control codes in a log.
	if len(lines) != 10 || lines[9] != "applying: 25/25 (x)" || strings.Contains(b.String(), "\r") {
		t.Fatalf("%d lines:\n%s", len(lines), b.String())
	}
}

func TestPrintTableAligns(t *testing.T) {
	var b bytes.Buffer
	if err := printTable(&b, []string{"ID", "NAME"}, [][]string{{"g-1", "一群"}, {"g-long-id", "x\ty"}}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	// Columns start at the same display cell: "一群" takes four.
	if displayWidth(lines[0][:strings.Index(lines[0], "NAME")]) != displayWidth(lines[2][:strings.Index(lines[2], "x y")]) ||
		displayWidth(lines[1]) != displayWidth("g-1")+len("g-long-id")-len("g-1")+2+displayWidth("一群") {
		t.Fatalf("not aligned:\n%s", b.String())
	}
}

func TestHelpOnEveryOperatorCommand(t *testing.T) {
	for _, name := range []string{"apply", "get", "export", "split", "report", "simulate", "load", "invoke"} {
		out, _, err := run(t, "", name, "--help")
		if err != nil || !strings.Contains(out, "Usage:") {
			t.Errorf("%s --help: %v\n%s", name, err, out)
		}
	}
}
