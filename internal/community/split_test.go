package community_test

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/qunyun/qunyun/internal/community"
)

// seedPeople returns n people, vip of them VIP, with a few interest tags.
func seedPeople(n, vip int) []community.Person {
	tags := []string{"餐饮", "健康", "好物", "行业"}
	out := make([]community.Person, n)
	for i := range out {
		out[i] = community.Person{ID: fmt.Sprintf("u%03d", i), Name: fmt.Sprintf("成员%d", i), Tags: []string{tags[i%len(tags)]}}
		if i < vip {
			out[i].Tier = "vip"
		}
	}
	return out
}

func TestSplitSeed000(t *testing.T) {
	// 500 users into 10 groups of about 50, VIP groups separate.
	people := seedPeople(500, 100)
	as, err := community.Split(people, community.SplitOptions{Groups: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 10 {
		t.Fatalf("%d groups", len(as))
	}
	vipGroups, total := 0, 0
	for _, a := range as {
		if len(a.Members) < 49 || len(a.Members) > 50 {
			t.Errorf("%s has %d members", a.GroupID, len(a.Members))
		}
		tiers := map[string]bool{}
		tags := map[string]int{}
		for _, m := range a.Members {
			tiers[m.Tier] = true
			tags[m.Tags[0]]++
		}
		if len(tiers) != 1 {
			t.Errorf("%s mixes tiers %v", a.GroupID, tiers)
		}
		if a.Tier == "vip" {
			vipGroups++
			if !strings.Contains(a.GroupID, "vip") {
				t.Errorf("vip group id %s", a.GroupID)
			}
		}
		for tag, n := range tags {
			if n < 10 || n > 15 {
				t.Errorf("%s: tag %s clustered: %d of %d", a.GroupID, tag, n, len(a.Members))
			}
		}
		total += len(a.Members)
	}
	if vipGroups != 2 || total != 500 {
		t.Fatalf("%d vip groups, %d members placed", vipGroups, total)
	}
}

func TestSplitDeterministic(t *testing.T) {
	people := seedPeople(237, 31)
	a, err := community.Split(people, community.SplitOptions{SizeCap: 40})
	if err != nil {
		t.Fatal(err)
	}
	shuffled := append([]community.Person(nil), people...)
	rand.New(rand.NewSource(7)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	b, err := community.Split(shuffled, community.SplitOptions{SizeCap: 40})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatal("the same people in another order split differently")
	}
}

func TestSplitTable(t *testing.T) {
	cases := []struct {
		name      string
		n, vip    int
		opt       community.SplitOptions
		wantSizes []int
		wantErr   string
	}{
		{"fewest groups by cap", 120, 0, community.SplitOptions{SizeCap: 50}, []int{40, 40, 40}, ""},
		{"vip alone", 60, 10, community.SplitOptions{}, []int{10, 50}, ""},
		{"extra groups go to the fullest tier", 100, 20, community.SplitOptions{Groups: 4}, []int{20, 27, 27, 26}, ""},
		{"too few groups", 500, 60, community.SplitOptions{Groups: 10}, nil, "at least 11 groups"},
		{"more groups than members", 3, 0, community.SplitOptions{Groups: 5}, nil, "empty"},
		{"bad cap", 3, 0, community.SplitOptions{SizeCap: -1}, nil, "size cap"},
		{"empty list", 0, 0, community.SplitOptions{}, nil, "empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			as, err := community.Split(seedPeople(tc.n, tc.vip), tc.opt)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var sizes []int
			for _, a := range as {
				sizes = append(sizes, len(a.Members))
			}
			if fmt.Sprint(sizes) != fmt.Sprint(tc.wantSizes) {
				t.Fatalf("sizes %v, want %v", sizes, tc.wantSizes)
			}
		})
	}
	if _, err := community.Split([]community.Person{{ID: "a"}, {ID: "a"}}, community.SplitOptions{}); err == nil {
		t.Error("duplicate member: no error")
	}
}

func TestGroupsFragmentParses(t *testing.T) {
	as, err := community.Split(seedPeople(500, 100), community.SplitOptions{Groups: 10})
	if err != nil {
		t.Fatal(err)
	}
	frag := community.GroupsFragment(as, 50)
	c, err := community.Parse("fragment.yaml", []byte(frag))
	if err != nil {
		t.Fatalf("fragment does not load: %v\n%s", err, frag)
	}
	if len(c.Groups) != 10 || c.Groups[0].Tier != "vip" {
		t.Fatalf("fragment groups: %+v", c.Groups[0])
	}
}
