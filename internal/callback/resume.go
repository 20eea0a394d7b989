package callback

import (
	"context"
	"time"

	"github.com/qunyun/qunyun/internal/metrics"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// Work that WeChat's retries did not finish (docs/protocols.md, "What runs
// after the record"): when the work after a record fails, the callback
// answers 503 and notes the record under FOLLOWUP#<UTC date of the
// failure>. WeChat re-sends a callback about three times, each within 5 s,
// so if the work keeps failing for longer than that, nobody would finish
// it. The callback function's schedule (template.yaml, every 5 minutes)
// runs Resume over today's and yesterday's notes and finishes them.

// DefaultResumeAfter is how long after the last failure of a record's work
// Resume leaves it alone: WeChat's retries of a callback come within about
// 15 s (three deliveries, 5 s each), so after two minutes none is on its
// way and Resume does not race one. (A bridge may retry later; every step
// is idempotent and every publish the same event, so a race costs a
// repeated write or publish, never a second effect.)
const DefaultResumeAfter = 2 * time.Minute

// resumeMargin is the time Resume keeps back before its deadline (the
// Lambda timeout, 5 s for this function): it starts no record closer to
// it than this, so the run ends with its report instead of being killed,
// and the next run takes what is left.
const resumeMargin = 1500 * time.Millisecond

// ResumeReport says what one Resume run did with the notes it read.
type ResumeReport struct {
	Dates    []string `json:"dates"`
	Notes    int      `json:"notes"`    // notes read
	Finished int      `json:"finished"` // records whose work this run did
	Cleared  int      `json:"cleared"`  // notes of records already finished (by a retry) or gone
	Waiting  int      `json:"waiting"`  // work failed less than ResumeAfter ago: left to WeChat's retries
	Taken    int      `json:"taken"`    // claimed by another run, or failed again meanwhile
	Failed   int      `json:"failed"`   // the work failed again: noted again for a later run
	Left     int      `json:"left"`     // not reached before the deadline: the next run
}

// ResumeDue runs Resume over the notes that can hold unfinished work at
// now: yesterday's and today's (UTC). A note is dated by the failure, and
// a record whose work fails again is noted again under that day, so work
// still failing moves forward with the days; a failure just before
// midnight is read the next day from yesterday's notes.
func (s *Service) ResumeDue(ctx context.Context, now time.Time) (ResumeReport, error) {
	return s.Resume(ctx, now.AddDate(0, 0, -1).UTC().Format(time.DateOnly), now.UTC().Format(time.DateOnly))
}

// Resume does the work still listed on the records noted on dates (UTC,
// oldest first) whose work last failed at least ResumeAfter ago. It is safe
// to run any number of times, side by side with itself and with live
// callbacks: each note is claimed with a conditional write before its work
// (one run gets it; a failure noted meanwhile makes the claim fail), the
// record is read again (a retry may have finished it), every step is
// idempotent and every event is published with its record's id and time.
// A note whose record is done is deleted. The work of a record that fails
// again is noted again and counted; Resume returns an error only when it
// could not read the notes.
func (s *Service) Resume(ctx context.Context, dates ...string) (ResumeReport, error) {
	rep := ResumeReport{Dates: dates}
	defer s.reportResume(ctx, &rep)
	var notes []qunyun.FollowupNote
	for _, date := range dates {
		n, err := s.Store.Followups.FollowupNotes(ctx, date)
		if err != nil {
			return rep, err
		}
		notes = append(notes, n...)
	}
	rep.Notes = len(notes)
	wait := s.ResumeAfter
	if wait <= 0 {
		wait = DefaultResumeAfter
	}
	deadline, hasDeadline := ctx.Deadline()
	for i := range notes {
		if (hasDeadline && time.Until(deadline) < resumeMargin) || ctx.Err() != nil {
			rep.Left = len(notes) - i
			break
		}
		s.resumeNote(ctx, &notes[i], wait, &rep)
	}
	return rep, nil
}

// resumeNote takes one note through claim, read and work, counting the
// outcome in rep.
func (s *Service) resumeNote(ctx context.Context, n *qunyun.FollowupNote, wait time.Duration, rep *ResumeReport) {
	now := s.Now()
	if now.Sub(n.NotedAt) < wait {
		rep.Waiting++
		return
	}
	fail := func(what string, err error) {
		rep.Failed++
		s.Log.ErrorContext(ctx, "callback: resume: "+what, "record", n.Record, "error", err.Error())
	}
	claimed, err := s.Store.Followups.ClaimFollowupNote(ctx, n, now)
	if err != nil {
		fail("claim failed", err)
		return
	}
	if !claimed {
		rep.Taken++
		return
	}
	r, pending, err := s.Store.Followups.FollowupRecord(ctx, *n)
	if err != nil {
		fail("read failed", err)
		return
	}
	if pending {
		switch {
		case r.Message != nil:
			_, err = s.finishMessage(ctx, *r.Message, qunyun.Recorded{Followup: r.Followup})
		case r.Event != nil:
			err = s.finishEvents(ctx, []qunyun.GroupEvent{*r.Event})
		}
		if err != nil {
			// finishMessage/finishEvents noted it again under today.
			fail("the work failed again", err)
			return
		}
	}
	if err := s.Store.Followups.ClearFollowupNote(ctx, *n); err != nil {
		// Harmless: a later run reads the record as done and clears it.
		s.secondary(ctx, "clear a resumed note", err)
	}
	if pending {
		rep.Finished++
		s.Log.InfoContext(ctx, "callback: resume: finished the work after a record", "record", n.Record,
			"steps", r.Steps, "noted", n.Date)
	} else {
		rep.Cleared++
	}
}

// reportResume logs a run and emits its counts (EMF).
func (s *Service) reportResume(ctx context.Context, rep *ResumeReport) {
	s.Log.InfoContext(ctx, "callback: resume", "dates", rep.Dates, "notes", rep.Notes, "finished", rep.Finished,
		"cleared", rep.Cleared, "waiting", rep.Waiting, "taken", rep.Taken, "failed", rep.Failed, "left", rep.Left)
	s.Metrics.Emit(
		metrics.Metric{Name: "ResumeFinished", Value: float64(rep.Finished)},
		metrics.Metric{Name: "ResumeFailed", Value: float64(rep.Failed)},
		metrics.Metric{Name: "ResumeWaiting", Value: float64(rep.Waiting)},
		metrics.Metric{Name: "ResumeLeft", Value: float64(rep.Left)},
	)
}

// ScheduleInput is the input of the callback function's schedule
// (template.yaml): {"kind":"resume","scheduledTime":"<aws.scheduler.scheduled-time>"}.
type ScheduleInput struct {
	Kind          string    `json:"kind"`
	ScheduledTime time.Time `json:"scheduledTime"`
}

// KindResume is the schedule's kind.
const KindResume = "resume"
