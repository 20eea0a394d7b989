// Package simulate is the community digital twin behind `qunyun simulate`
// and the demo life of `make run`: it populates the community's groups with
// members who have personas (lurker, chatterer, asker, expert, host,
// spammer, newcomer), plans what they do day by day according to each
// group's purpose (a quiet shelf group, a noisy fan group, a VIP group with
// host sessions, a dying group, a ten-minute pop-up group…), and plays it
// against a running stack on its clock — for `qunyun simulate` a stepped one
// that moves only when the simulation moves it (Stack.Step), for the demo
// real time: every message, join,
// leave, check-in and vote is a real signed and encrypted callback
// (package callbacks), owners confirm customer-group tasks through the
// sandbox, and members open tracked links through /r/{code}.
//
// Reproducibility: the timeline comes from one seeded math/rand source and
// the virtual clock, never from wall-clock order; what the simulation does
// in reaction to the stack (session Q&A, confirmations, link opens) draws
// from a source seeded by the seed and the thing reacted to, so it does not
// depend on when the stack did it. On a stepped clock the run is a
// discrete-event simulation: one event at a time, every scheduled time at
// its own virtual time, and all that each set off settled before virtual
// time moves on, so the machine's speed cannot change the outcome.
//
// It must not write to the table or call the functions' code: the stack is
// reached only as WeChat, the bridge, a group owner and a member reach it,
// and the table is only read for the summary.
package simulate
