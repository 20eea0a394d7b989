package scoring

import (
	_ "embed"
	"fmt"
	"math"
	"strings"
	"text/template"

	"gopkg.in/yaml.v3"
)

//go:embed texts.yaml
var textsYAML []byte

// Texts are the user-facing explanation templates (texts.yaml) and the word
// lists scoring uses, compiled once.
type Texts struct {
	dimensions map[string]*template.Template
	flags      map[string]*template.Template
	leaders    map[string]*template.Template
	size       map[string]*template.Template
	value      *template.Template
	level      *template.Template
	levelHeld  *template.Template
	purposes   map[string]string
	questions  []string
	votes      []string
	stopwords  map[string]bool
}

type textsFile struct {
	Dimensions      map[string]string `yaml:"dimensions"`
	Value           string            `yaml:"value"`
	Flags           map[string]string `yaml:"flags"`
	Level           string            `yaml:"level"`
	LevelHeld       string            `yaml:"level_held"`
	Leaders         map[string]string `yaml:"leaders"`
	Size            map[string]string `yaml:"size"`
	Purposes        map[string]string `yaml:"purposes"`
	QuestionMarkers []string          `yaml:"questionMarkers"`
	VoteMarkers     []string          `yaml:"voteMarkers"`
	Stopwords       []string          `yaml:"stopwords"`
}

var funcs = template.FuncMap{
	"pct": func(v any) string { return fmt.Sprintf("%.0f%%", toFloat(v)*100) },
	"num": func(v any) string { return fmt.Sprintf("%.1f", toFloat(v)) },
	"int": func(v any) string { return fmt.Sprintf("%d", int(math.Round(toFloat(v)))) },
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int:
		return float64(x)
	}
	return 0
}

// LoadTexts compiles the embedded texts.yaml.
func LoadTexts() (*Texts, error) {
	var f textsFile
	if err := yaml.Unmarshal(textsYAML, &f); err != nil {
		return nil, fmt.Errorf("scoring texts: %w", err)
	}
	t := &Texts{purposes: f.Purposes, questions: f.QuestionMarkers, votes: f.VoteMarkers, stopwords: map[string]bool{}}
	var err error
	compileAll := func(src map[string]string) map[string]*template.Template {
		out := map[string]*template.Template{}
		for k, s := range src {
			if err != nil {
				break
			}
			out[k], err = compile(k, s)
		}
		return out
	}
	t.dimensions = compileAll(f.Dimensions)
	t.flags = compileAll(f.Flags)
	t.leaders = compileAll(f.Leaders)
	t.size = compileAll(f.Size)
	if err != nil {
		return nil, err
	}
	if t.value, err = compile("value", f.Value); err != nil {
		return nil, err
	}
	if t.level, err = compile("level", f.Level); err != nil {
		return nil, err
	}
	if t.levelHeld, err = compile("level_held", f.LevelHeld); err != nil {
		return nil, err
	}
	for _, w := range f.Stopwords {
		t.stopwords[strings.ToLower(w)] = true
	}
	return t, nil
}

func compile(name, src string) (*template.Template, error) {
	tpl, err := template.New(name).Funcs(funcs).Option("missingkey=zero").Parse(src)
	if err != nil {
		return nil, fmt.Errorf("scoring texts: template %s: %w", name, err)
	}
	return tpl, nil
}

// render fills a template with numbers (plus string values); a missing
// template or a failed render yields the numbers themselves, so an
// explanation is never lost.
func render(tpl *template.Template, numbers map[string]float64, strs map[string]string) string {
	data := map[string]any{}
	for k, v := range numbers {
		data[k] = v
	}
	for k, v := range strs {
		data[k] = v
	}
	if tpl != nil {
		var b strings.Builder
		if err := tpl.Execute(&b, data); err == nil {
			return b.String()
		}
	}
	return fmt.Sprint(numbers)
}

func (t *Texts) purposeName(p string) string {
	if n, ok := t.purposes[p]; ok {
		return n
	}
	return p
}
