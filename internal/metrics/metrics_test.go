package metrics_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/metrics"
)

func TestEmitEMF(t *testing.T) {
	var buf bytes.Buffer
	e := &metrics.Emitter{W: &buf, Dimensions: map[string]string{"Stage": "dev"}, Now: func() time.Time { return time.UnixMilli(1700000000000) }}
	e.Emit(metrics.Metric{Name: "DeliveryUnknown", Value: 1}, metrics.Metric{Name: "Latency", Value: 12.5, Unit: metrics.Milliseconds})

	var got struct {
		AWS struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
		Stage           string
		DeliveryUnknown float64
		Latency         float64
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v: %s", err, buf.String())
	}
	cw := got.AWS.CloudWatchMetrics
	if got.AWS.Timestamp != 1700000000000 || len(cw) != 1 || cw[0].Namespace != "Qunyun" ||
		cw[0].Dimensions[0][0] != "Stage" || len(cw[0].Metrics) != 2 || cw[0].Metrics[0].Unit != "Count" {
		t.Fatalf("bad EMF: %s", buf.String())
	}
	if got.Stage != "dev" || got.DeliveryUnknown != 1 || got.Latency != 12.5 {
		t.Fatalf("values: %+v", got)
	}
	var nilEmitter *metrics.Emitter
	nilEmitter.Emit(metrics.Metric{Name: "x"}) // must not panic
}

func TestEmitLeavesOutZeroCounts(t *testing.T) {
	var buf bytes.Buffer
	e := &metrics.Emitter{W: &buf, Now: func() time.Time { return time.UnixMilli(1700000000000) }}
	e.Emit(metrics.Metric{Name: "DeliveriesSent", Value: 0}, metrics.Metric{Name: "TasksCreated", Value: 0, Unit: metrics.Count})
	if buf.Len() != 0 {
		t.Fatalf("all-zero counts wrote %s", buf.String())
	}
	e.Emit(metrics.Metric{Name: "DeliveriesSent", Value: 2}, metrics.Metric{Name: "TasksCreated", Value: 0},
		metrics.Metric{Name: "Latency", Value: 0, Unit: metrics.Milliseconds})
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v: %s", err, buf.String())
	}
	if _, ok := got["TasksCreated"]; ok {
		t.Errorf("a zero count was written: %s", buf.String())
	}
	if got["DeliveriesSent"] != 2.0 || got["Latency"] != 0.0 {
		t.Errorf("want the non-zero count and the zero latency (a measurement, not a count): %s", buf.String())
	}
}
