package sam

// LongForm lets the template tests read template.yaml with its short-tag
// intrinsics (!Ref, !Sub, …) in their long form, as validation does.
var LongForm = longForm
