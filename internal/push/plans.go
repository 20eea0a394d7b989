package push

import (
	"context"
	"slices"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// plans reads the plans, each plan's contentTags expanded into its
// contents: every pickable content with one of the tags ("*": all), after
// the ids it names, in library order so the rotation is the same in every
// invocation. Members' contributions are pickable once staff approved them,
// so an approved contribution is sent like any content of the library.
func (s *Service) plans(ctx context.Context) ([]qunyun.Plan, error) {
	plans, err := s.Store.Catalog.Plans(ctx)
	if err != nil || !slices.ContainsFunc(plans, func(p qunyun.Plan) bool { return len(p.ContentTags) > 0 }) {
		return plans, err
	}
	library, err := s.Store.Catalog.Contents(ctx)
	if err != nil {
		return nil, err
	}
	for i := range plans {
		p := &plans[i]
		if len(p.ContentTags) == 0 {
			continue
		}
		p.Contents = slices.Clone(p.Contents)
		for _, c := range library {
			if c.Pickable() && tagged(c, p.ContentTags) && !slices.Contains(p.Contents, c.ID) {
				p.Contents = append(p.Contents, c.ID)
			}
		}
	}
	return plans, nil
}

func tagged(c qunyun.Content, tags []string) bool {
	return slices.Contains(tags, "*") || slices.ContainsFunc(c.Tags, func(t string) bool { return slices.Contains(tags, t) })
}
