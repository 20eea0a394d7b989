package segment

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDictMatchesGse: the embedded copies are gse's files at the version
// go.mod pins, so segmenting is exactly what gse's own zh_s dictionary
// gives. After upgrading gse, run go generate ./internal/segment.
func TestDictMatchesGse(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/go-ego/gse").Output()
	if err != nil {
		t.Fatalf("find gse's module directory: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "data", "dict", "zh")
	for name, gz := range map[string][]byte{"s_1.txt": dictGz, "idf.txt": idfGz, "stop_tokens.txt": stopGz} {
		want, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := gunzip(gz)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got != string(want) {
			t.Errorf("dict/%s.gz differs from gse's %s: run go generate ./internal/segment", name, name)
		}
	}
}
