package sam_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qunyun/qunyun/internal/sam"
)

func TestProjectTemplateIsValid(t *testing.T) {
	if err := sam.Validate("../../template.yaml"); err != nil {
		t.Fatal(err)
	}
}

// writeProject copies the project's template (after edit) and Makefile into
// a fresh folder, as a fresh clone would have them.
func writeProject(t *testing.T, edit func(string) string, makefile func(string) string) string {
	t.Helper()
	tpl, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, data := range map[string]string{"template.yaml": edit(string(tpl)), "Makefile": makefile(string(mk))} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "template.yaml")
}

// replace fails the test when old is not there, so a broken-template case
// cannot silently turn into a valid one when template.yaml changes.
func replace(t *testing.T, old, new string) func(string) string {
	return func(s string) string {
		t.Helper()
		if !strings.Contains(s, old) {
			t.Fatalf("fixture: %q not found", old)
		}
		return strings.Replace(s, old, new, 1)
	}
}

func same(s string) string { return s }

func TestValidateRejectsBrokenTemplates(t *testing.T) {
	tests := []struct {
		name     string
		template func(*testing.T) func(string) string
		makefile func(*testing.T) func(string) string
		want     []string
	}{
		{
			name: "misspelt Globals property",
			template: func(t *testing.T) func(string) string {
				return replace(t, "    Runtime: provided.al2023", "    Runtimez: provided.al2023")
			},
			want: []string{"at /Globals/Function: additional properties 'Runtimez' not allowed"},
		},
		{
			name:     "unknown event type",
			template: func(t *testing.T) func(string) string { return replace(t, "Type: ScheduleV2", "Type: ScheduleV3") },
			want:     []string{"/Properties/Events/Tick/Type: unknown type ScheduleV3; want one of", "ScheduleV2"},
		},
		{
			name: "unknown policy template",
			template: func(t *testing.T) func(string) string {
				return replace(t, "      Role: !GetAtt CallbackFunctionRole.Arn\n", "      Policies:\n        - DynamoDBCrudPolicyy: {TableName: !Ref Table}\n")
			},
			want: []string{`CallbackFunction: unknown policy template "DynamoDBCrudPolicyy"`},
		},
		{
			name: "makefile target missing",
			makefile: func(t *testing.T) func(string) string {
				return replace(t, "SessionFunction ScoringFunction", "ScoringFunction")
			},
			want: []string{"has no target build-SessionFunction"},
		},
		{
			name:     "not YAML",
			template: func(t *testing.T) func(string) string { return func(s string) string { return s + "\n  : [\n" } },
			want:     []string{"is not valid YAML"},
		},
		{
			name:     "no resources",
			template: func(t *testing.T) func(string) string { return replace(t, "\nResources:\n", "\nResourcez:\n") },
			want:     []string{"template has no Resources"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl, mk := same, same
			if tt.template != nil {
				tpl = tt.template(t)
			}
			if tt.makefile != nil {
				mk = tt.makefile(t)
			}
			err := sam.Validate(writeProject(t, tpl, mk))
			if err == nil {
				t.Fatal("broken template passed validation")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestValidateMissingFile(t *testing.T) {
	err := sam.Validate(filepath.Join(t.TempDir(), "template.yaml"))
	if err == nil || !strings.Contains(err.Error(), "read template") {
		t.Fatalf("err = %v", err)
	}
}

func TestMakefileTargets(t *testing.T) {
	mk := `FNS := A B
X ?= y
.PHONY: build-Phony $(addprefix build-,$(FNS))
$(addprefix build-,$(FNS)):
	echo $@
deps other: x.txt
double::
x.txt:
	touch $@
`
	got := sam.MakefileTargets([]byte(mk))
	for _, want := range []string{"build-A", "build-B", "deps", "other", "double", "x.txt"} {
		if !got[want] {
			t.Errorf("target %s not found in %v", want, got)
		}
	}
	for _, not := range []string{"build-Phony", ".PHONY", "X", "FNS"} {
		if got[not] {
			t.Errorf("%s is not a target: %v", not, got)
		}
	}
}

func TestPolicyTemplateNames(t *testing.T) {
	names, err := sam.PolicyTemplateNames()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"DynamoDBCrudPolicy", "EventBridgePutEventsPolicy", "SSMParameterReadPolicy"} {
		if !names[n] {
			t.Errorf("%s missing from the official list", n)
		}
	}
}

func BenchmarkValidate(b *testing.B) {
	if err := sam.Validate("../../template.yaml"); err != nil { // compiles the schema once
		b.Fatal(err)
	}
	for b.Loop() {
		if err := sam.Validate("../../template.yaml"); err != nil {
			b.Fatal(err)
		}
	}
}
