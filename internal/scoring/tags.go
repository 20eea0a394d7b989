package scoring

import (
	"math"
	"sort"
	"strings"
	"unicode"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Segmenter cuts text into words. Chinese has no spaces, so tags need a
// word segmenter (gse, in package segment); Bigrams is the stand-in.
type Segmenter interface {
	Cut(text string) []string
}

// weigher is a Segmenter that also knows how rare a word is in the
// language at large (segment.Segmenter does): tags then favour words that
// are rare both in the group and in Chinese generally.
type weigher interface {
	IDF(word string) float64
}

// contenter is a Segmenter that knows which words carry meaning
// (segment.Segmenter does: gse's stop words and the community's chat
// fillers, internal/segment/fillers.txt).
type contenter interface {
	Content(word string) bool
}

// Bigrams is a dictionary-free segmenter: runs of Han characters become
// overlapping two-character words, other runs of letters and digits become
// lower-case words. It finds topics well enough to test the pipeline; a
// real segmenter finds better ones.
type Bigrams struct{}

// Cut implements Segmenter.
func (Bigrams) Cut(text string) []string {
	var out []string
	var han []rune
	var word []rune
	flush := func() {
		if len(han) == 1 {
			out = append(out, string(han))
		}
		for i := 0; i+1 < len(han); i++ {
			out = append(out, string(han[i:i+2]))
		}
		han = han[:0]
		if len(word) > 0 {
			out = append(out, strings.ToLower(string(word)))
			word = word[:0]
		}
	}
	for _, r := range text {
		switch {
		case unicode.Is(unicode.Han, r):
			if len(word) > 0 {
				out = append(out, strings.ToLower(string(word)))
				word = word[:0]
			}
			han = append(han, r)
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if len(han) > 0 {
				w := word
				word = nil
				flush()
				word = w
			}
			word = append(word, r)
		default:
			flush()
		}
	}
	flush()
	return out
}

const (
	memberTagCount = 3
	groupTagCount  = 5
	minTagRunes    = 2
)

// topicWords are the words of text that may name a topic: not a stop word
// or a filler, not a number, at least two runes.
func (s *Scorer) topicWords(text string) []string {
	seg := s.segmenter()
	c, _ := seg.(contenter)
	var out []string
	for _, w := range seg.Cut(text) {
		w = strings.TrimSpace(strings.ToLower(w))
		if len([]rune(w)) < minTagRunes || s.texts.stopwords[w] || isNumber(w) || c != nil && !c.Content(w) {
			continue
		}
		out = append(out, w)
	}
	return out
}

// Corpus counts, for each word, how many of a night's groups used it: a
// word most groups' chat uses (楼上, 一起) names the topic of none, however
// often one group says it. One document per group, as TF-IDF has one per
// text.
type Corpus struct {
	Groups int            // groups whose members said anything
	DF     map[string]int // groups that used the word
}

// minCorpus is how many groups must have spoken before their document
// frequency says anything: with two, every shared word is "most groups".
const minCorpus = 3

// Corpus builds the corpus of days scored together.
func (s *Scorer) Corpus(days []GroupDay) *Corpus {
	c := &Corpus{DF: map[string]int{}}
	for _, d := range days {
		used := map[string]bool{}
		for _, m := range d.Log.Messages {
			if m.MemberID == "" || m.At.Before(d.Start) || !m.At.Before(d.End) {
				continue
			}
			for _, w := range s.topicWords(m.Text) {
				used[w] = true
			}
		}
		if len(used) > 0 {
			c.Groups++
		}
		for w := range used {
			c.DF[w]++
		}
	}
	return c
}

// weight is the corpus's inverse document frequency of w: 0 for a word
// more than half the groups used, log(groups/df) for the others, 1 when
// the corpus is too small to tell.
func (c *Corpus) weight(w string) float64 {
	if c == nil || c.Groups < minCorpus {
		return 1
	}
	df := max(c.DF[w], 1)
	if 2*df > c.Groups {
		return 0
	}
	return math.Log(float64(c.Groups) / float64(df))
}

// tags finds each member's tags and the group's topics of the day: words
// they use more than the group does (TF-IDF, one document per member),
// weighed again by how few groups use them (Corpus), the tags of the
// content they opened, and the operator's keyword→tag rules.
func (s *Scorer) tags(d GroupDay, f *facts) (map[string][]string, []string) {
	docs := map[string]map[string]int{} // member → term → count
	df := map[string]int{}
	total := map[string]int{}
	for id, texts := range f.texts {
		tf := map[string]int{}
		for _, t := range texts {
			for _, w := range s.topicWords(t) {
				tf[w]++
			}
		}
		for w, n := range tf {
			df[w]++
			total[w] += n
		}
		docs[id] = tf
	}
	n := float64(len(docs))
	out := map[string][]string{}
	for id, tf := range docs {
		var cands []qunyun.TagCount
		for w, c := range tf {
			if c < 2 { // a word said once is not a topic
				continue
			}
			idf := (math.Log((n+1)/float64(df[w]+1)) + 1) * d.Corpus.weight(w)
			if wg, ok := s.segmenter().(weigher); ok {
				idf *= wg.IDF(w)
			}
			if idf > 0 {
				cands = append(cands, qunyun.TagCount{Tag: w, Score: float64(c) * idf})
			}
		}
		out[id] = topTags(cands, memberTagCount)
	}
	for id, contents := range f.opened {
		for _, cid := range contents {
			for _, t := range d.Contents[cid].Tags {
				out[id] = appendNew(out[id], t)
			}
		}
	}
	for _, r := range d.KeywordRules {
		if r.Tag == "" || !ruleApplies(r.AccountID, r.Groups, d.Group) {
			continue
		}
		for id, texts := range f.texts {
			if matchesAny(texts, r.Keywords) {
				out[id] = appendNew(out[id], r.Tag)
			}
		}
	}
	// The group's topics: words used by more than one member, by weight.
	var group []qunyun.TagCount
	for w, c := range total {
		if score := float64(c*df[w]) * d.Corpus.weight(w); df[w] >= 2 && score > 0 {
			group = append(group, qunyun.TagCount{Tag: w, Score: score})
		}
	}
	return out, topTags(group, groupTagCount)
}

func topTags(c []qunyun.TagCount, n int) []string {
	sort.Slice(c, func(i, j int) bool {
		if c[i].Score != c[j].Score {
			return c[i].Score > c[j].Score
		}
		return c[i].Tag < c[j].Tag
	})
	var out []string
	for i := 0; i < len(c) && i < n; i++ {
		out = append(out, c[i].Tag)
	}
	return out
}

func appendNew(tags []string, t string) []string {
	for _, x := range tags {
		if x == t {
			return tags
		}
	}
	return append(tags, t)
}

func matchesAny(texts, keywords []string) bool {
	for _, t := range texts {
		for _, k := range keywords {
			if k != "" && strings.Contains(t, k) {
				return true
			}
		}
	}
	return false
}

func isNumber(w string) bool {
	for _, r := range w {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}
