package community

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Person is one line of a member list to split over groups.
type Person struct {
	ID   string   `json:"id"`
	Name string   `json:"name,omitempty"`
	Tier string   `json:"tier,omitempty"` // "vip" gets VIP groups; "" is regular
	Tags []string `json:"tags,omitempty"`
	// Group is the group a members file puts them in (a split's output).
	Group string `json:"group,omitempty"`
	// Line is where the person was read, for problems; 0 when not read.
	Line int `json:"-"`
}

// SplitOptions says how to split.
type SplitOptions struct {
	Groups  int    // total groups; 0 = as few as the size cap allows
	SizeCap int    // most members per group; 0 = qunyun.DefaultSizeCap
	Prefix  string // group id prefix; "" = "g"
}

// Assignment is one group of a split and its members.
type Assignment struct {
	GroupID string   `json:"group"`
	Tier    string   `json:"tier"`
	Members []Person `json:"members"`
}

const tierRegular = "regular"

// Split distributes people over groups: every tier gets groups of its own
// (VIP members never share a group with regular ones), no group exceeds the
// size cap, a tier's groups differ in size by at most one, and members who
// share a first tag are spread across the tier's groups rather than
// clustered. The result depends only on the set of people, not their order.
func Split(people []Person, opt SplitOptions) ([]Assignment, error) {
	if opt.SizeCap == 0 {
		opt.SizeCap = qunyun.DefaultSizeCap
	}
	if opt.SizeCap < 1 {
		return nil, qunyun.Errorf(qunyun.EINVALID, "size cap %d: expected at least 1", opt.SizeCap)
	}
	if opt.Groups < 0 {
		return nil, qunyun.Errorf(qunyun.EINVALID, "groups %d: expected 0 (as few as needed) or more", opt.Groups)
	}
	if opt.Prefix == "" {
		opt.Prefix = "g"
	}
	byTier, tiers, err := splitTiers(people)
	if err != nil {
		return nil, err
	}
	counts, err := groupCounts(byTier, tiers, opt, len(people))
	if err != nil {
		return nil, err
	}
	var out []Assignment
	for _, t := range tiers {
		out = append(out, deal(byTier[t], t, counts[t], opt.Prefix)...)
	}
	return out, nil
}

// splitTiers sorts people by tier, VIP first; a person without an id or
// named twice is an error.
func splitTiers(people []Person) (byTier map[string][]Person, tiers []string, err error) {
	byTier = map[string][]Person{}
	seen := map[string]bool{}
	for i, p := range people {
		if p.ID == "" {
			return nil, nil, qunyun.Errorf(qunyun.EINVALID, "member %d has no id", i+1)
		}
		if seen[p.ID] {
			return nil, nil, qunyun.Errorf(qunyun.EINVALID, "member %q appears twice", p.ID)
		}
		seen[p.ID] = true
		tier := strings.ToLower(strings.TrimSpace(p.Tier))
		if tier == "" {
			tier = tierRegular
		}
		p.Tier = tier
		byTier[tier] = append(byTier[tier], p)
	}
	if len(byTier) == 0 {
		return nil, nil, qunyun.Errorf(qunyun.EINVALID, "the member list is empty")
	}
	tiers = make([]string, 0, len(byTier))
	for t := range byTier {
		tiers = append(tiers, t)
	}
	sort.Slice(tiers, func(i, j int) bool {
		return tierRank(tiers[i]) < tierRank(tiers[j]) || (tierRank(tiers[i]) == tierRank(tiers[j]) && tiers[i] < tiers[j])
	})
	return byTier, tiers, nil
}

// groupCounts gives each tier the fewest groups it needs under the cap,
// and the groups opt asks for beyond those to the tiers whose groups are
// fullest.
func groupCounts(byTier map[string][]Person, tiers []string, opt SplitOptions, people int) (map[string]int, error) {
	counts := make(map[string]int, len(tiers))
	need := 0
	var needs []string
	for _, t := range tiers {
		counts[t] = (len(byTier[t]) + opt.SizeCap - 1) / opt.SizeCap
		need += counts[t]
		needs = append(needs, fmt.Sprintf("%d %s", counts[t], t))
	}
	if opt.Groups == 0 {
		return counts, nil
	}
	if opt.Groups < need {
		return nil, qunyun.Errorf(qunyun.EINVALID,
			"%d members need at least %d groups at size cap %d (%s; tiers never share a group): ask for more groups or a larger cap",
			people, need, opt.SizeCap, strings.Join(needs, " + "))
	}
	// Extra groups go, one at a time, to the tier whose groups are
	// fullest, so sizes end up as even as the tiers allow.
	for extra := opt.Groups - need; extra > 0; extra-- {
		best := tiers[0]
		for _, t := range tiers[1:] {
			if len(byTier[t])*counts[best] > len(byTier[best])*counts[t] {
				best = t
			}
		}
		if counts[best] >= len(byTier[best]) {
			return nil, qunyun.Errorf(qunyun.EINVALID, "%d groups for %d members would leave groups empty", opt.Groups, people)
		}
		counts[best]++
	}
	return counts, nil
}

// deal spreads the members of one tier over its groups.
func deal(members []Person, tier string, groups int, prefix string) []Assignment {
	sort.Slice(members, func(i, j int) bool {
		a, b := firstTag(members[i]), firstTag(members[j])
		if a != b {
			return a < b
		}
		return members[i].ID < members[j].ID
	})
	out := make([]Assignment, groups)
	for i := range out {
		id := fmt.Sprintf("%s-%02d", prefix, i+1)
		if tier != tierRegular {
			id = fmt.Sprintf("%s-%s-%02d", prefix, tier, i+1)
		}
		out[i] = Assignment{GroupID: id, Tier: tier}
	}
	// Dealing round-robin keeps sizes within one of each other and
	// spreads each tag over the groups.
	for i, m := range members {
		g := &out[i%len(out)]
		g.Members = append(g.Members, m)
	}
	return out
}

func tierRank(t string) int {
	switch t {
	case "vip":
		return 0
	case tierRegular:
		return 2
	}
	return 1
}

// firstTag orders members so that those without tags come last.
func firstTag(p Person) string {
	if len(p.Tags) == 0 {
		return "\uffff"
	}
	return p.Tags[0]
}

// GroupsFragment renders a split as the groups: section of a
// community.yaml, for the operator to complete (names, owners, accounts).
func GroupsFragment(as []Assignment, sizeCap int) string {
	if sizeCap == 0 {
		sizeCap = qunyun.DefaultSizeCap
	}
	var b strings.Builder
	b.WriteString("groups:\n")
	for _, a := range as {
		purpose, tier := qunyun.PurposeGeneral, a.Tier
		if a.Tier == "vip" {
			purpose = qunyun.PurposeVIP
		}
		fmt.Fprintf(&b, "  - id: %s\n    purpose: %s\n", yamlScalar(a.GroupID), purpose)
		if tier == "vip" || tier == tierRegular {
			fmt.Fprintf(&b, "    tier: %s\n", tier)
		} else {
			fmt.Fprintf(&b, "    tags: [%s]\n", yamlScalar(tier))
		}
		fmt.Fprintf(&b, "    sizeCap: %d\n    # %d members\n", sizeCap, len(a.Members))
	}
	return b.String()
}

// plainScalar is text YAML reads back as itself when written bare, in a
// block or a flow: an id-like word.
var plainScalar = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// yamlScalar writes s for the fragment: bare when that reads back as the
// same string, else double-quoted with Go's escapes, which YAML shares
// (\n, \x7f, \u0085, ...), an invalid byte as U+FFFD: a tier or prefix
// from the member list or the command line can neither break the YAML nor
// turn into a number or a boolean.
func yamlScalar(s string) string {
	var back any
	if plainScalar.MatchString(s) && yaml.Unmarshal([]byte(s), &back) == nil && back == s {
		return s
	}
	return strconv.Quote(string([]rune(s)))
}
