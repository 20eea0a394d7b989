// Package community is operator config as code: the community.yaml model
// (accounts, groups, content, plans, hosts, session targets and manual
// sessions, keyword and check-in rules, moderation lists, contests, staff, and members
// imported from a CSV file), its JSON Schema, loading with file:line:column
// errors, the diff against what the table holds, and applying that diff. It
// also splits a member list over groups (Split) and writes the split as the
// members file it loads (MembersCSV).
//
// Loading is all-or-nothing: a file with any error yields no Community, so
// apply can never write half a file. Applying is idempotent: every write is
// an upsert of the whole operator-owned record, and a record that already
// equals the file is not written at all.
//
// It must not hold secrets (accounts name SSM parameters only), talk to
// WeChat, or change fields other parts maintain (a group's member count,
// noise flag or WeChat state; a member's joins and leaves, scoring's tier
// and tags, a role an operator gave by hand), and it never removes members.
package community
