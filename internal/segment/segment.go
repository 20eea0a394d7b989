// Package segment is Chinese word segmentation for Qunyun, a small wrapper
// over github.com/go-ego/gse with gse's simplified-Chinese dictionary and
// IDF table: Cut splits text into words, Keywords ranks a text's words by
// TF-IDF, KeySentences picks the sentences that carry the most information
// (extractive summaries for session recaps), and Sentences splits text
// into sentences. Content words exclude gse's stop words and the community
// chat fillers curated in fillers.txt.
//
// Loading takes one to two seconds and allocates 450 MB, so load it once
// per process and only when first needed (Shared), in the functions that
// need it (session, scoring): never at start-up, and never in the callback
// or push, whose cold starts must be short.
//
// The dictionaries are this package's own gzip-compressed copies of gse's
// (dict/, go generate): gse embeds every language's dictionaries, 38 MB,
// and a binary that calls gse's embedded loaders links all of them. For the
// same reason the gse segmenter is held only inside closures (see
// Segmenter). It holds no other state and is safe for concurrent use once
// loaded.
package segment

//go:generate sh dict/update.sh

import (
	"bytes"
	"cmp"
	"compress/gzip"
	_ "embed"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/go-ego/gse"
)

// gse's data/dict/zh files, compressed (dict/README.md).
var (
	//go:embed dict/s_1.txt.gz
	dictGz []byte
	//go:embed dict/idf.txt.gz
	idfGz []byte
	//go:embed dict/stop_tokens.txt.gz
	stopGz []byte
)

// Segmenter cuts Chinese text and weighs its words. Build it with Load or
// Shared.
type Segmenter struct {
	// gse's Cut and IsStop, as closures rather than a gse.Segmenter field:
	// text/template and html/template (in session and scoring) make the
	// linker keep every exported method of any type reachable from an
	// interface value, and a gse.Segmenter field would drag in
	// LoadDictEmbed and with it gse's 38 MB of embedded dictionaries.
	cut    func(text string, hmm ...bool) []string
	isStop func(word string) bool
	idf    map[string]float64
	median float64 // IDF of a word the table does not know
}

// Load reads the embedded dictionaries. It is slow (one to two seconds):
// prefer Shared.
func Load() (*Segmenter, error) {
	dict, err := gunzip(dictGz)
	if err != nil {
		return nil, fmt.Errorf("segment: load dictionary: %w", err)
	}
	var seg gse.Segmenter
	if err := seg.LoadDictStr(dict); err != nil {
		return nil, fmt.Errorf("segment: load dictionary: %w", err)
	}
	// gse's Chinese stop list (啊, 我们, 什么, 可以, punctuation…).
	stop, err := gunzip(stopGz)
	if err != nil {
		return nil, fmt.Errorf("segment: load stop words: %w", err)
	}
	if err := seg.LoadStopStr(stop); err != nil {
		return nil, fmt.Errorf("segment: load stop words: %w", err)
	}
	idf, err := gunzip(idfGz)
	if err != nil {
		return nil, fmt.Errorf("segment: load idf table: %w", err)
	}
	weights, median, err := parseIDF(idf)
	if err != nil {
		return nil, fmt.Errorf("segment: load idf table: %w", err)
	}
	return &Segmenter{cut: seg.Cut, isStop: seg.IsStop, idf: weights, median: median}, nil
}

func gunzip(data []byte) (string, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return "", err
	}
	var b strings.Builder
	// A gzip stream ends with its uncompressed size (mod 4 GiB): one
	// allocation instead of doubling up to 6 MB.
	if len(data) >= 4 {
		b.Grow(int(binary.LittleEndian.Uint32(data[len(data)-4:])))
	}
	if _, err := io.Copy(&b, zr); err != nil {
		return "", err
	}
	return b.String(), zr.Close()
}

// Shared returns the process's one Segmenter, loading it on first use; a
// concurrent caller waits for that one load. The dictionaries are
// read-only data, so sharing them is safe; this is the one package-level
// value, kept because a Lambda container should pay the load once, not
// once per invocation.
var Shared = sync.OnceValues(Load)

// parseIDF reads gse's "word weight" lines into a map and the median weight.
func parseIDF(table string) (map[string]float64, float64, error) {
	weights := make(map[string]float64, 280000)
	var all []float64
	for line := range strings.Lines(table) {
		word, w, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok || word == "" {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(w), 64)
		if err != nil {
			continue
		}
		weights[word] = v
		all = append(all, v)
	}
	if len(all) == 0 {
		return nil, 0, fmt.Errorf("empty idf table")
	}
	slices.Sort(all)
	return weights, all[len(all)/2], nil
}

// Cut splits text into words (HMM on for words the dictionary lacks),
// dropping whitespace-only pieces.
func (s *Segmenter) Cut(text string) []string {
	words := s.cut(text, true)
	out := words[:0]
	for _, w := range words {
		if strings.TrimSpace(w) != "" {
			out = append(out, w)
		}
	}
	return out
}

// Keyword is a word and its weight in one text.
type Keyword struct {
	Word   string  `json:"word"`
	Weight float64 `json:"weight"`
}

// IDF is the inverse document frequency of a word: high for rare, specific
// words, the table's median for unknown ones.
func (s *Segmenter) IDF(word string) float64 {
	if v, ok := s.idf[word]; ok {
		return v
	}
	return s.median
}

// Content reports whether a word carries meaning: at least two runes, not
// a stop word (gse's Chinese list, a common English one or a community chat
// filler), not only digits or punctuation.
func (s *Segmenter) Content(word string) bool {
	if utf8.RuneCountInString(word) < 2 || s.isStop(word) || englishStop[strings.ToLower(word)] || fillers[word] {
		return false
	}
	for _, r := range word {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

// Keywords returns the n content words of text with the highest TF-IDF
// weight (term frequency in text × IDF), heaviest first; ties go to the
// word that comes first in Unicode order, so the result is deterministic.
func (s *Segmenter) Keywords(text string, n int) []Keyword {
	return top(s.weights(s.Cut(text)), n)
}

// weights is the TF-IDF weight of every content word among words.
func (s *Segmenter) weights(words []string) map[string]float64 {
	tf := map[string]float64{}
	total := 0.0
	for _, w := range words {
		if s.Content(w) {
			tf[w]++
			total++
		}
	}
	for w, f := range tf {
		tf[w] = f / total * s.IDF(w)
	}
	return tf
}

func top(weights map[string]float64, n int) []Keyword {
	out := make([]Keyword, 0, len(weights))
	for w, v := range weights {
		out = append(out, Keyword{w, v})
	}
	slices.SortFunc(out, func(a, b Keyword) int {
		return cmp.Or(cmp.Compare(b.Weight, a.Weight), strings.Compare(a.Word, b.Word))
	})
	if n >= 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// Sentence is one sentence of a text, with the information it carries.
type Sentence struct {
	Text  string  `json:"text"`
	Index int     `json:"index"` // position among the input sentences
	Score float64 `json:"score"`
}

// KeySentences picks up to n sentences that carry the most information
// about the whole text, in their original order. A sentence's score is the
// sum of the document-level TF-IDF weights of its distinct content words,
// divided by the square root of its word count: a long, padded sentence
// does not win by length, and a short one with the text's key terms does.
// A sentence that mostly repeats the key words of one already chosen is
// skipped, so the summary says different things, and one scoring under
// MinShare of the best is dropped as filler even when n is not reached.
func (s *Segmenter) KeySentences(sentences []string, n int) []Sentence {
	cuts := make([][]string, len(sentences))
	var all []string
	for i, sent := range sentences {
		cuts[i] = s.Cut(sent)
		all = append(all, cuts[i]...)
	}
	doc := s.weights(all)

	scored := make([]Sentence, 0, len(sentences))
	words := make([]map[string]bool, len(sentences))
	for i, sent := range sentences {
		words[i] = map[string]bool{}
		sum := 0.0
		for _, w := range cuts[i] {
			if v, ok := doc[w]; ok && !words[i][w] {
				words[i][w] = true
				sum += v
			}
		}
		if len(words[i]) == 0 {
			continue
		}
		scored = append(scored, Sentence{Text: strings.TrimSpace(sent), Index: i, Score: sum / math.Sqrt(float64(len(cuts[i])))})
	}
	slices.SortFunc(scored, func(a, b Sentence) int { return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.Index, b.Index)) })

	var chosen []Sentence
	for _, c := range scored {
		if len(chosen) == n || c.Score < MinShare*scored[0].Score {
			break
		}
		redundant := slices.ContainsFunc(chosen, func(o Sentence) bool { return overlap(words[c.Index], words[o.Index]) > 0.6 })
		if !redundant {
			chosen = append(chosen, c)
		}
	}
	slices.SortFunc(chosen, func(a, b Sentence) int { return cmp.Compare(a.Index, b.Index) })
	return chosen
}

// MinShare is the least score, as a share of the best sentence's, that a
// key sentence needs: below it a sentence is filler ("嗯嗯好的，我们开始吧").
const MinShare = 0.4

// overlap is the share of a's words that b also has.
func overlap(a, b map[string]bool) float64 {
	if len(a) == 0 {
		return 0
	}
	n := 0
	for w := range a {
		if b[w] {
			n++
		}
	}
	return float64(n) / float64(len(a))
}

// Sentences splits text at Chinese and Western sentence ends and line
// breaks, keeping the end mark with its sentence and dropping empty ones.
func Sentences(text string) []string {
	var out []string
	var b strings.Builder
	flush := func() {
		if t := strings.TrimSpace(b.String()); t != "" {
			out = append(out, t)
		}
		b.Reset()
	}
	for _, r := range text {
		switch r {
		case '\n', '\r':
			flush()
		case '。', '！', '？', '!', '?', '；', ';', '…':
			b.WriteRune(r)
			flush()
		default:
			b.WriteRune(r)
		}
	}
	flush()
	return out
}

// fillersTxt is the curated list of community chat fillers (楼上, 报到,
// 请多关照…): written everywhere, they name no topic.
//
//go:embed fillers.txt
var fillersTxt string

var fillers = func() map[string]bool {
	out := map[string]bool{}
	for line := range strings.Lines(fillersTxt) {
		if w := strings.TrimSpace(line); w != "" && !strings.HasPrefix(w, "#") {
			out[w] = true
		}
	}
	return out
}()

// englishStop is the English function words members mix into Chinese text;
// gse's stop list covers only Chinese and punctuation.
var englishStop = map[string]bool{
	"the": true, "of": true, "is": true, "and": true, "to": true, "in": true,
	"that": true, "we": true, "for": true, "an": true, "are": true, "by": true,
	"be": true, "as": true, "on": true, "with": true, "can": true, "if": true,
	"from": true, "which": true, "you": true, "it": true, "this": true,
	"then": true, "at": true, "have": true, "all": true, "not": true,
	"one": true, "has": true, "or": true,
}
