package scoring

import (
	"math"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Weights are the share of each value dimension for one purpose (seed 001:
// a group's purpose decides what value it should give). They sum to 1.
type Weights struct{ Information, Answers, Connections, Benefits float64 }

// PurposeWeights weigh the four dimensions by purpose. A shelf group lives
// on information and offers and owes no conversation; a learning or VIP
// group lives on answers; a fan or industry group on connections.
var PurposeWeights = map[qunyun.Purpose]Weights{
	qunyun.PurposeShelf:         {0.55, 0.10, 0.00, 0.35},
	qunyun.PurposeResourcePopup: {0.60, 0.20, 0.00, 0.20},
	qunyun.PurposeFan:           {0.30, 0.15, 0.40, 0.15},
	qunyun.PurposeLearning:      {0.35, 0.40, 0.15, 0.10},
	qunyun.PurposePunchCard:     {0.20, 0.15, 0.15, 0.50},
	qunyun.PurposeIndustry:      {0.30, 0.30, 0.30, 0.10},
	qunyun.PurposeVIP:           {0.30, 0.35, 0.25, 0.10},
	qunyun.PurposeGeneral:       {0.35, 0.30, 0.20, 0.15},
}

func (w Weights) of(dim string) float64 {
	switch dim {
	case qunyun.DimensionInformation:
		return w.Information
	case qunyun.DimensionAnswers:
		return w.Answers
	case qunyun.DimensionConnections:
		return w.Connections
	}
	return w.Benefits
}

// Targets at which a dimension's part is full.
const (
	targetReadRate    = 0.20 // a fifth of the members open what was delivered
	fastResponseMins  = 15.0 // a first response within 15 min is fast
	pairsPerMember    = 0.10 // one reply pair per ten members
	reachShare        = 0.20 // a fifth of the members in a conversation
	benefitPerMember  = 0.10 // one benefit per ten members
	checkinerPerShare = 0.5  // a check-in counts half a benefit
)

// dimensions scores the four dimensions of one day.
func (s *Scorer) dimensions(p qunyun.Purpose, f *facts) []qunyun.DimensionScore {
	w := PurposeWeights[p]
	members := float64(f.members)
	readRate := share(float64(f.readers), members)
	out := make([]qunyun.DimensionScore, 0, 4)

	// Timely information: what members opened, and sessions held. Content
	// delivered but never opened gave nobody anything, so it scores nothing
	// (sent stays in the numbers, to show the effort).
	read := clamp01(readRate / targetReadRate)
	info := read
	if f.sessions > 0 {
		info = 0.30 + 0.70*read
	}
	out = append(out, s.dimension(qunyun.DimensionInformation, w, f.sent > 0 || f.readers > 0 || f.sessions > 0, 100*info, map[string]float64{
		"sent": float64(f.sent), "readers": float64(f.readers), "members": members,
		"readRate": round3(readRate), "shares": float64(f.shares), "sessions": float64(f.sessions)}))

	// Answers: evidence only when someone asked.
	med := median(f.responseMins)
	ans := 0.0
	if f.questions > 0 {
		rate := float64(f.answered) / float64(f.questions)
		speed := 1.0
		if f.answered > 0 && med > fastResponseMins {
			speed = math.Max(0, 1-0.25*math.Log2(med/fastResponseMins))
		}
		ans = 100 * rate * (0.7 + 0.3*speed)
	}
	out = append(out, s.dimension(qunyun.DimensionAnswers, w, f.questions > 0, ans, map[string]float64{
		"questions": float64(f.questions), "answered": float64(f.answered),
		"answerRate": round3(float64(f.answered) / math.Max(1, float64(f.questions))), "medianMinutes": round1(med)}))

	// Connections: evidence only when someone spoke.
	targetPairs := math.Max(2, math.Round(members*pairsPerMember))
	conn := 100 * (0.6*clamp01(float64(f.pairs)/targetPairs) + 0.4*clamp01(share(float64(f.reach), members*reachShare)))
	out = append(out, s.dimension(qunyun.DimensionConnections, w, f.activity.Messages > 0, conn, map[string]float64{
		"pairs": float64(f.pairs), "reach": float64(f.reach), "targetPairs": targetPairs}))

	// Benefits: evidence only when an offer, a prize or a check-in was on
	// the table.
	got := float64(f.benefitReaders+f.rewards+f.prizes) + checkinerPerShare*float64(f.checkers)
	evidence := f.benefitSent > 0 || f.benefitReaders > 0 || f.rewards > 0 || f.prizes > 0 || f.checkers > 0
	ben := 100 * clamp01(got/math.Max(1, members*benefitPerMember))
	out = append(out, s.dimension(qunyun.DimensionBenefits, w, evidence, ben, map[string]float64{
		"benefitReaders": float64(f.benefitReaders), "rewards": float64(f.rewards),
		"prizes": float64(f.prizes), "checkers": float64(f.checkers)}))
	return out
}

// dimension scores one dimension. Without evidence it scores 0 and says
// so: the day gave members nothing there that we can see.
func (s *Scorer) dimension(name string, w Weights, evidence bool, score float64, numbers map[string]float64) qunyun.DimensionScore {
	d := qunyun.DimensionScore{Name: name, Weight: w.of(name), Evidence: evidence, Numbers: numbers}
	if evidence {
		d.Score = round1(score)
		d.Why = render(s.texts.dimensions[name], numbers, nil)
	} else {
		d.Why = render(s.texts.dimensions[name+"_none"], numbers, nil)
	}
	return d
}

// weighted is the value: the purpose-weighted sum of the dimensions, each
// with the weight its purpose gives it. A dimension without evidence keeps
// its weight and adds 0, so a group is never lifted by what it did not
// show: an idle group with one delivered, unread message scores 0, not
// the score of its one dimension with the others' weight handed to it.
// What a purpose does not owe (a shelf group's conversation) weighs 0.
func weighted(dims []qunyun.DimensionScore) float64 {
	var sum float64
	for _, d := range dims {
		sum += d.Weight * d.Score
	}
	return round1(sum)
}

// share is n/of, 0 when of is 0 (a group of unknown size).
func share(n, of float64) float64 {
	if of <= 0 {
		return 0
	}
	return n / of
}

// rolling averages today's value with the stored values of the 6 and 27
// days before it (days without a score, before the group existed, do not
// count).
func rolling(history []qunyun.GroupScore, date string, today float64) (v7, v28 float64) {
	day, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return today, today
	}
	sum7, n7, sum28, n28 := today, 1.0, today, 1.0
	for _, h := range history {
		hd, err := time.Parse(time.DateOnly, h.Date)
		if err != nil || !hd.Before(day) {
			continue
		}
		age := day.Sub(hd).Hours() / 24
		if age < 7 {
			sum7, n7 = sum7+h.Value, n7+1
		}
		if age < 28 {
			sum28, n28 = sum28+h.Value, n28+1
		}
	}
	return round1(sum7 / n7), round1(sum28 / n28)
}
