package callback

import (
	"net/http"

	"github.com/aws/aws-lambda-go/events"
)

// verifyFile answers GET /{file}, the route that serves WeCom's domain
// ownership file. A verified WeCom company may bind only domains it has
// proved it owns, the callback URL's included: WeCom fetches
// https://<domain>/WW_verify_<code>.txt and expects the code as the body.
// API Gateway matches whole path segments only, so the route catches every
// one-segment GET at the root; anything but that one file is 404, and so is
// everything while no code is configured.
func (h *Handler) verifyFile(method, name string) events.APIGatewayV2HTTPResponse {
	if method != http.MethodGet && method != http.MethodHead {
		return text(http.StatusMethodNotAllowed, "method not allowed")
	}
	if h.VerifyCode == "" || name != "WW_verify_"+h.VerifyCode+".txt" {
		return text(http.StatusNotFound, "not found")
	}
	// WeCom compares the body with the code: no newline, nothing else.
	return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK, Body: h.VerifyCode,
		Headers: map[string]string{"Content-Type": "text/plain"}}
}
