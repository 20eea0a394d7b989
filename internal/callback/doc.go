// Package callback is CallbackFunction's code: the HTTP handler for
// GET|POST /wechat/{account} and GET /r/{code}, and the inbound service
// behind it. Every WeChat, WeCom, smart-bot and relay callback is verified
// (package wechat), normalised into the domain (a Message, GroupEvents or an
// AccountEvent), recorded once with a conditional put keyed by its
// idempotency key, and answered in time; the inline rules that must answer
// now (keyword reply, check-in, session Q&A capture, welcome) run after the
// record, and only what needs async work goes to the bus.
//
// Answers: 200 once recorded (or recorded before); 4xx with a reason for bad
// input, having written nothing; 503 when DynamoDB failed before the record,
// so WeChat retries and the retry is recorded once. Failures after the
// record are logged and counted, never failed back.
//
// What it must not do: no protocol code of its own (that is package
// wechat), no AWS clients of its own (the Store and Publisher are injected),
// no sends to WeChat APIs (push does that), and no more than one write per
// ordinary group message: reads on the hot path go through in-memory caches.
package callback
