package community

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// The members file is a CSV with a header naming its columns: group and id
// are required, name, tier (vip or regular) and tags (separated by ';' or
// '|') optional. `qunyun split --csv` writes exactly this, so a split list
// is applied as it comes out.
var membersHeader = []string{"group", "id", "name", "tier", "tags"}

// ReadPeople reads a member list: JSON lines when the content starts with
// '{', CSV with a header otherwise. Problems name the file, line and column.
// Each Person keeps the line it came from.
func ReadPeople(name string, data []byte) ([]Person, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if bytes.HasPrefix(trimmed, []byte("{")) {
		return readJSONPeople(name, data)
	}
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff"))))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, Problems{{File: name, Line: 1, Column: 1, Message: "empty; expected a header line such as " + strings.Join(membersHeader, ",")}}
	}
	if err != nil {
		return nil, Problems{csvProblem(name, err)}
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	if _, ok := col["id"]; !ok {
		return nil, Problems{{File: name, Line: 1, Column: 1, Message: "the header has no id column; expected " + strings.Join(membersHeader, ",")}}
	}
	var people []Person
	var problems Problems
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, append(problems, csvProblem(name, err))
		}
		line, _ := r.FieldPos(0)
		get := func(field string) string {
			if i, ok := col[field]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		p := Person{Group: get("group"), ID: get("id"), Name: get("name"), Tier: get("tier"), Line: line}
		if p.ID == "" {
			_, c := r.FieldPos(min(col["id"], len(rec)-1))
			problems = append(problems, Problem{File: name, Line: line, Column: c, Message: "empty id"})
			continue
		}
		for _, t := range strings.FieldsFunc(get("tags"), func(r rune) bool { return r == ';' || r == '|' }) {
			if t = strings.TrimSpace(t); t != "" {
				p.Tags = append(p.Tags, t)
			}
		}
		people = append(people, p)
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return people, nil
}

func readJSONPeople(name string, data []byte) ([]Person, error) {
	var people []Person
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var p Person
		dec := json.NewDecoder(strings.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			return nil, Problems{{File: name, Line: line, Column: 1, Message: fmt.Sprintf("expected a JSON object with id, name, tier, tags, group: %v", err)}}
		}
		if p.ID == "" {
			return nil, Problems{{File: name, Line: line, Column: 1, Message: "empty id"}}
		}
		p.Line = line
		people = append(people, p)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return people, nil
}

func csvProblem(name string, err error) Problem {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return Problem{File: name, Line: pe.Line, Column: pe.Column, Message: "CSV: " + pe.Err.Error()}
	}
	return Problem{File: name, Line: 1, Column: 1, Message: "CSV: " + err.Error()}
}

// MembersCSV writes a split as the members file community.yaml loads
// (members: {file: ...}): one line per member with their group.
func MembersCSV(w io.Writer, as []Assignment) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(membersHeader); err != nil {
		return err
	}
	for _, a := range as {
		for _, m := range a.Members {
			// A tier other than vip and regular travels as a tag, as
			// GroupsFragment makes it a tag of the group.
			tier, tags := a.Tier, m.Tags
			if tier != "vip" && tier != tierRegular {
				tier, tags = tierRegular, append([]string{a.Tier}, tags...)
			}
			if err := cw.Write([]string{a.GroupID, m.ID, m.Name, tier, strings.Join(tags, ";")}); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// idPattern is the schema's id: what a key of the table can hold.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$`)

// staff checks the staff section: ids unique, accounts and groups known, an
// id for the account of every group served, and no person (an id in an
// account) listed as two staff.
func (c *checker) staff(f *File) {
	c.ids("staff", len(f.Staff), func(i int) string { return f.Staff[i].ID })
	accountOf := map[string]string{}
	for _, g := range f.Groups {
		accountOf[g.ID] = g.AccountID
	}
	claimed := map[[2]string]string{} // account, id → staff id
	for i, s := range f.Staff {
		at := func(field ...string) []string { return append([]string{"staff", strconv.Itoa(i)}, field...) }
		for _, acct := range sortedKeys(s.IDs) {
			c.account(acct, at("ids", acct)...)
			key := [2]string{acct, s.IDs[acct]}
			if other, dup := claimed[key]; dup && other != s.ID {
				c.add(fmt.Sprintf("%s in account %s is already staff %q; expected one staff entry per person", s.IDs[acct], acct, other), at("ids", acct)...)
			}
			claimed[key] = s.ID
		}
		c.groupRefs(s.Groups, at("groups")...)
		for j, g := range s.Groups {
			acct, known := accountOf[g]
			if known && s.IDs[acct] == "" {
				c.add(fmt.Sprintf("staff %q serves group %s of account %s but has no id there; expected ids: {%s: <their id>}", s.ID, g, acct, acct), at("groups", strconv.Itoa(j))...)
			}
		}
	}
}

// membersFile reads the members file community.yaml names (relative to
// it) and checks every line: a known group, an id the table can key, a
// tier of vip or regular, each member once per group, and no group above
// its size cap. The lines are kept for community().
func (c *checker) membersFile(f *File) {
	if f.Members == nil || f.Members.File == "" {
		return
	}
	at := []string{"members", "file"}
	path := f.Members.File
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(c.ix.file), path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		c.add(fmt.Sprintf("cannot read the members file: %v", err), at...)
		return
	}
	people, err := ReadPeople(path, data)
	var ps Problems
	if errors.As(err, &ps) {
		c.problems = append(c.problems, ps...)
		return
	}
	if err != nil {
		c.add(err.Error(), at...)
		return
	}
	sizeCap := map[string]int{}
	for _, g := range f.Groups {
		sizeCap[g.ID] = cmp.Or(g.SizeCap, f.Defaults.SizeCap, qunyun.DefaultSizeCap)
	}
	line := func(p Person, msg string) {
		c.problems = append(c.problems, Problem{File: path, Line: p.Line, Column: 1, Message: msg})
	}
	seen := map[[2]string]int{}
	count := map[string]int{}
	for _, p := range people {
		switch {
		case p.Group == "":
			line(p, "no group; expected the group column ("+strings.Join(membersHeader, ",")+"), as `qunyun split --csv` writes it")
			continue
		case !c.groups[p.Group]:
			line(p, fmt.Sprintf("unknown group %q; expected a group id defined under groups", p.Group))
			continue
		}
		if !idPattern.MatchString(p.ID) {
			line(p, fmt.Sprintf("id %q: expected letters, digits, _ - . : @, starting with a letter or digit", p.ID))
		}
		switch strings.ToLower(p.Tier) {
		case "", "vip", tierRegular:
		default:
			line(p, fmt.Sprintf("tier %q: expected vip or regular", p.Tier))
		}
		key := [2]string{p.Group, p.ID}
		if first, dup := seen[key]; dup {
			line(p, fmt.Sprintf("%s is in %s twice (first on line %d)", p.ID, p.Group, first))
			continue
		}
		seen[key] = p.Line
		count[p.Group]++
	}
	for _, g := range sortedKeys(count) {
		if count[g] > sizeCap[g] {
			c.add(fmt.Sprintf("the members file puts %d members in %s, above its size cap %d", count[g], g, sizeCap[g]), at...)
		}
	}
	f.people = people
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
