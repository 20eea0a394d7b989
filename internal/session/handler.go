package session

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/events"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Invoke is SessionFunction's Lambda handler: an API Gateway request for
// the host's page gets the page; everything else (the tick, bus events) goes
// to Handle and answers null.
func (s *Service) Invoke(ctx context.Context, raw json.RawMessage) (any, error) {
	var probe struct {
		RouteKey       string `json:"routeKey"`
		RequestContext struct {
			HTTP struct {
				Method string `json:"method"`
			} `json:"http"`
		} `json:"requestContext"`
	}
	if json.Unmarshal(raw, &probe) == nil && probe.RouteKey != "" && probe.RequestContext.HTTP.Method != "" {
		var req events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &req); err != nil {
			return nil, qunyun.Errorf(qunyun.EINVALID, "session: bad API Gateway request: %v", err)
		}
		return s.ServePage(ctx, req), nil
	}
	return nil, s.Handle(ctx, raw)
}
