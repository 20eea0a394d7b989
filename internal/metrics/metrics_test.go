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
