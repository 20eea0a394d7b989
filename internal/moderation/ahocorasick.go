// Package moderation finds the signals a group message raises for the
// moderators: links, QR codes, mini-program and contact cards, sensitive
// words (Aho–Corasick over a configurable list) and floods (one member's
// burst). Defang breaks the links it would find, for quoting members' text
// in Qunyun's own messages.
//
// It only judges text and counts; it must not store, publish or decide who
// is exempt (staff are exempted by the caller, which knows the roles). The
// flood counter lives in memory per process: it sees the messages one
// Lambda container handles, which is where a burst lands in practice, and it
// never costs a DynamoDB request.
package moderation

import (
	"slices"
	"strings"
	"unicode"
)

// Matcher finds every listed word in a text in one pass (Aho–Corasick), so
// the cost per message does not grow with the size of the list.
// A Matcher is immutable after NewMatcher and safe for concurrent use.
type Matcher struct {
	nodes []node
}

type node struct {
	next map[rune]int32
	fail int32
	// out lists the words that end here, including those reached through
	// fail links (merged at build time so matching never walks the chain).
	out []string
}

// NewMatcher builds a matcher for words. Matching ignores case and
// full-width/half-width differences of ASCII letters and digits; empty words
// are skipped.
func NewMatcher(words []string) *Matcher {
	m := &Matcher{nodes: []node{{next: map[rune]int32{}}}}
	for _, w := range words {
		w = strings.TrimSpace(w)
		if w == "" {
			continue
		}
		cur := int32(0)
		for _, r := range w {
			r = fold(r)
			nxt, ok := m.nodes[cur].next[r]
			if !ok {
				m.nodes = append(m.nodes, node{next: map[rune]int32{}})
				nxt = int32(len(m.nodes) - 1)
				m.nodes[cur].next[r] = nxt
			}
			cur = nxt
		}
		if !slices.Contains(m.nodes[cur].out, w) {
			m.nodes[cur].out = append(m.nodes[cur].out, w)
		}
	}
	// Breadth-first: a node's fail link is the longest proper suffix of its
	// path that is also a path from the root.
	queue := make([]int32, 0, len(m.nodes))
	for _, child := range m.nodes[0].next {
		queue = append(queue, child) // fail = root
	}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for r, child := range m.nodes[cur].next {
			f := m.nodes[cur].fail
			for {
				if nxt, ok := m.nodes[f].next[r]; ok && nxt != child {
					m.nodes[child].fail = nxt
					break
				}
				if f == 0 {
					m.nodes[child].fail = 0
					break
				}
				f = m.nodes[f].fail
			}
			m.nodes[child].out = append(m.nodes[child].out, m.nodes[m.nodes[child].fail].out...)
			queue = append(queue, child)
		}
	}
	return m
}

// Find returns the distinct listed words that occur in text, in the order
// their first occurrence ends.
func (m *Matcher) Find(text string) []string {
	if m == nil || len(m.nodes) == 1 {
		return nil
	}
	var found []string
	cur := int32(0)
	for _, r := range text {
		r = fold(r)
		for {
			if nxt, ok := m.nodes[cur].next[r]; ok {
				cur = nxt
				break
			}
			if cur == 0 {
				break
			}
			cur = m.nodes[cur].fail
		}
		for _, w := range m.nodes[cur].out {
			if !slices.Contains(found, w) {
				found = append(found, w)
			}
		}
	}
	return found
}

// fold maps full-width ASCII (Ａ, １) to half-width and letters to lower
// case, so "ＶＸ" and "vx" match the same listed word.
func fold(r rune) rune {
	if r >= 0xFF01 && r <= 0xFF5E {
		r -= 0xFEE0
	}
	return unicode.ToLower(r)
}
