package session

import (
	"cmp"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/segment"
)

// How a host message is paired with a question, strongest first (pairAnswer):
//
//  1. it quotes the question;
//  2. it names the question's number, "答 3" (the number the host's queue shows);
//  3. it @s the asker: that member's open question it shares most words with;
//  4. it repeats at least PairShare of an open question's key words: the one
//     it repeats most of, the earliest on a tie.
//
// Otherwise it answers nothing: "会员券在公众号菜单里领取" is not the answer
// to "晚饭几点开始？" just because that question was the oldest open one.
const (
	// PairShare is the least share of a question's key words a host message
	// must repeat to answer it without quoting, numbering or @-ing it.
	PairShare = 1.0 / 3
	// RepeatShare is the least share of key words two questions must have
	// in common, both ways, for the later to be merged into the earlier.
	RepeatShare = 0.6
)

// answerCommand is the host's "答 3" / "回答3：…": the rest is the answer.
var answerCommand = regexp.MustCompile(`^\s*(?:答|回答)\s*(\d+)\s*[:：,，、.。]?\s*(.*)$`)

// numbered returns the question number and the answer text of an "答 3"
// message, or 0.
func numbered(text string) (int, string) {
	m := answerCommand.FindStringSubmatch(text)
	if m == nil {
		return 0, ""
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return 0, ""
	}
	return n, strings.TrimSpace(m[2])
}

// keyWords are a text's content words (segment.Content), each once.
func keyWords(seg *segment.Segmenter, text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, w := range seg.Cut(text) {
		if seg.Content(w) && !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// repeated is the share of words that text contains. It looks for each word
// in the text as written rather than among the text's own words, because the
// segmenter cuts one phrase differently in different sentences ("复购" in
// the question, "购率" in the answer).
func repeated(words []string, text string) float64 {
	if len(words) == 0 {
		return 0
	}
	n := 0
	for _, w := range words {
		if strings.Contains(text, w) {
			n++
		}
	}
	return float64(n) / float64(len(words))
}

// repeats reports whether question b asks what question a asked.
func repeats(a, b []string, aText, bText string) bool {
	return repeated(a, bText) >= RepeatShare && repeated(b, aText) >= RepeatShare
}

// pairAnswer returns the index of the question a host message answers, or
// -1. open(i) says whether question i may still be answered by m (shown,
// unanswered, asked before m); words[i] are its key words.
func pairAnswer(m qunyun.Message, qs []qunyun.Question, words [][]string, byMessage map[string]int, open func(int) bool) (int, string) {
	if i, ok := byMessage[m.ReplyTo]; ok && m.ReplyTo != "" {
		if open(i) {
			return i, m.Text
		}
		return -1, ""
	}
	if m.ReplyTo != "" {
		// A quote of anything else (a member's remark) is a conversation,
		// not an answer.
		return -1, ""
	}
	if n, rest := numbered(m.Text); n > 0 {
		if n <= len(qs) && open(n-1) {
			return n - 1, cmp.Or(rest, m.Text)
		}
		return -1, ""
	}
	best, bestShare := -1, 0.0
	mentioned := false
	for i := range qs {
		if !open(i) || !slices.Contains(m.Mentions, qs[i].MemberID) {
			continue
		}
		mentioned = true
		if share := repeated(words[i], m.Text); best < 0 || share > bestShare {
			best, bestShare = i, share
		}
	}
	if mentioned {
		return best, m.Text
	}
	for i := range qs {
		if !open(i) {
			continue
		}
		if share := repeated(words[i], m.Text); share >= PairShare && share > bestShare {
			best, bestShare = i, share
		}
	}
	return best, m.Text
}
