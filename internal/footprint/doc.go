// Package footprint holds the budgets of what each Lambda function links:
// its tests fail when a function's binary, built as `make build` builds it,
// grows past its size budget, or when a function links local tooling
// (internal/sam and its JSON-schema library, internal/local/...) or a test
// harness. Whatever a function links costs every cold start: package init
// runs before the first answer, and a larger binary is more to load.
//
// It has no code of its own, only tests; docs/performance.md has the
// figures and how they were measured.
package footprint
