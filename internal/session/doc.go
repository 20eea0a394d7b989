// Package session runs host sessions 嘉宾场 in groups (issue 6): the weekly
// rotation planner (PlanWeek, pure), the minute-by-minute life cycle
// (scheduled → reminded → open → closing → closed → recapped, each step a
// conditional update so it happens once however often or late the tick
// runs), the Q&A bookkeeping (answers, hides, the host's question queue) and
// the recap for members who missed the session, and the host's page
// (GET /sessions/{id}: the session, its questions and its recap, behind a
// random per-session key; page.go).
//
// It talks to the outside world only through the stores (Sessions, Catalog)
// and the Publisher it is given: everything outbound is a DeliveryRequested event for PushFunction;
// it never calls a WeChat API itself and never reads the clock except
// through the injected one. Chinese text lives in texts.tmpl (messages)
// and page.html (the host's page).
package session
