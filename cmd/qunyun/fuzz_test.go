package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/qunyun/qunyun/internal/community"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// FuzzSplitMembers reads a fuzzed member list (CSV, or JSON lines) as
// `qunyun split` does and splits it. A list it reads names its errors by
// file; every member has an id; written back in its own format it reads the
// same. A split places every member once, each group holding one tier,
// none empty or over the cap, a tier's groups within one member of each
// other, the same for the list in any order; and its groups: fragment is
// YAML that reads back as the same groups.
func FuzzSplitMembers(f *testing.F) {
	f.Add([]byte("id,name,tier,tags\nu000,成员0,vip,餐饮;健康\nu001,成员1,regular,好物\nu002,成员2,,行业|餐饮\n"), uint8(0), uint8(2))
	f.Add([]byte("{\"id\":\"a\",\"tier\":\"vip\",\"tags\":[\"x\"]}\n{\"id\":\"b\"}\n{\"id\":\"c\",\"name\":\"丙\"}\n"), uint8(3), uint8(0))
	f.Add([]byte("\ufeffID, Name ,TIER\n\"a,b\",\"x\ny\",gold\n"), uint8(1), uint8(1))
	f.Add([]byte("name,tier\nx,vip\n"), uint8(0), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, groups, sizeCap uint8) {
		people, err := community.ReadPeople("members.csv", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "members.csv") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, p := range people {
			if p.ID == "" {
				t.Fatalf("read a member without an id: %+v", people)
			}
		}
		back, err := community.ReadPeople("members.csv", writePeople(t, people, bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n\ufeff"), []byte("{"))))
		if err != nil || !slices.EqualFunc(back, people, samePerson) {
			t.Fatalf("%+v written back reads as %+v, %v", people, back, err)
		}

		opt := community.SplitOptions{Groups: int(groups % 8), SizeCap: int(sizeCap % 8)}
		split, err := community.Split(people, opt)
		if err != nil {
			if qunyun.ErrorCode(err) != qunyun.EINVALID {
				t.Fatalf("split: %v", err)
			}
			return
		}
		checkSplit(t, people, opt, split)
		reversed := slices.Clone(people)
		slices.Reverse(reversed)
		if again, err := community.Split(reversed, opt); err != nil || !reflect.DeepEqual(again, split) {
			t.Fatalf("the reversed list splits differently: %v", err)
		}
		var frag struct {
			Groups []struct {
				ID   string   `yaml:"id"`
				Tier string   `yaml:"tier"`
				Tags []string `yaml:"tags"`
			} `yaml:"groups"`
		}
		if err := yaml.Unmarshal([]byte(community.GroupsFragment(split, opt.SizeCap)), &frag); err != nil || len(frag.Groups) != len(split) {
			t.Fatalf("fragment does not read back: %v\n%s", err, community.GroupsFragment(split, opt.SizeCap))
		}
		for i, g := range frag.Groups {
			// YAML holds text: an invalid byte reads back as U+FFFD.
			id, tier := string([]rune(split[i].GroupID)), string([]rune(split[i].Tier))
			if g.ID != id || g.Tier != tier && !slices.Equal(g.Tags, []string{tier}) {
				t.Fatalf("fragment group %+v for %s (%s)", g, split[i].GroupID, split[i].Tier)
			}
		}
	})
}

// samePerson compares people, an empty tag list equal to none.
func samePerson(a, b community.Person) bool {
	return a.ID == b.ID && a.Name == b.Name && a.Tier == b.Tier && slices.Equal(a.Tags, b.Tags)
}

// writePeople writes a member list as JSON lines or as CSV with tags
// joined by ';'.
func writePeople(t *testing.T, people []community.Person, jsonLines bool) []byte {
	var b bytes.Buffer
	if jsonLines {
		enc := json.NewEncoder(&b)
		for _, p := range people {
			if err := enc.Encode(p); err != nil {
				t.Fatal(err)
			}
		}
		return b.Bytes()
	}
	w := csv.NewWriter(&b)
	w.Write([]string{"id", "name", "tier", "tags"})
	for _, p := range people {
		w.Write([]string{p.ID, p.Name, p.Tier, strings.Join(p.Tags, ";")})
	}
	w.Flush()
	return b.Bytes()
}

func checkSplit(t *testing.T, people []community.Person, opt community.SplitOptions, split []community.Assignment) {
	t.Helper()
	limit := opt.SizeCap
	if limit == 0 {
		limit = qunyun.DefaultSizeCap
	}
	placed := map[string]int{}
	sizes := map[string][]int{}
	ids := map[string]bool{}
	for _, a := range split {
		if ids[a.GroupID] || len(a.Members) == 0 || len(a.Members) > limit {
			t.Fatalf("group %s of %d members", a.GroupID, len(a.Members))
		}
		ids[a.GroupID] = true
		sizes[a.Tier] = append(sizes[a.Tier], len(a.Members))
		for _, m := range a.Members {
			placed[m.ID]++
			if tier := strings.ToLower(strings.TrimSpace(m.Tier)); tier != a.Tier && !(tier == "" && a.Tier == "regular") {
				t.Fatalf("%s (%q) in a %s group", m.ID, m.Tier, a.Tier)
			}
		}
	}
	for _, p := range people {
		if placed[p.ID] != 1 {
			t.Fatalf("%s placed %d times", p.ID, placed[p.ID])
		}
	}
	for tier, s := range sizes {
		if slices.Max(s)-slices.Min(s) > 1 {
			t.Fatalf("tier %s sizes %v", tier, s)
		}
	}
	if opt.Groups > 0 && len(split) != opt.Groups {
		t.Fatalf("%d groups, asked for %d", len(split), opt.Groups)
	}
}
