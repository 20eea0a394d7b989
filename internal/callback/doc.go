// Package callback is CallbackFunction's code: the HTTP handler for
// GET|POST /wechat/{account}, GET /r/{code} and WeCom's domain ownership
// file (GET /{file}, verifyfile.go), and the inbound service behind it.
// Every WeChat, WeCom, smart-bot and relay callback is verified (package
// wechat), normalised into the domain (a Message, GroupEvents or an
// AccountEvent), recorded once with a conditional put keyed by its
// idempotency key, and answered in time; the inline rules that must answer
// now (keyword reply, check-in, session Q&A capture, welcome) run after the
// record, and only what needs async work goes to the bus: a relay group's
// keyword and check-in answers too, which the bridge's callback cannot
// carry back, as a DeliveryRequested that push posts through the bridge.
//
// Answers: 200 once recorded (or recorded before) with its work done; 4xx
// with a reason for bad input, having written nothing; 503 when DynamoDB
// failed before the record, so WeChat retries and the retry is recorded
// once; 503 too when the work after the record failed: the record lists
// that work (qunyun.Followup), and the retry does it again, each step being
// idempotent, then marks it done. A retry of a record whose work is done is
// a pure duplicate, answered with the reply the record kept. Work that
// WeChat's retries did not finish is finished by Resume, which the
// function's schedule runs every 5 minutes (Handler.Invoke tells the
// schedule's input from an HTTP request).
//
// What it must not do: no protocol code of its own (that is package
// wechat), no AWS clients of its own (the Store and Publisher are injected),
// no sends to WeChat APIs (push does that), no transactions (DESIGN.md §5),
// and no more than one write per ordinary group message besides the claim
// of a relay id or the time anchor of a bot message (their log keys hang on
// a time the body does not fix): reads on the hot path go through
// in-memory caches, and only a message with work after its record pays the
// write that marks it done.
package callback
