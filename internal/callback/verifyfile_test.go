package callback_test

import (
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/qunyun/qunyun/internal/callback"
)

// WeCom's ownership check fetches /WW_verify_<code>.txt and compares the
// body with the code; every other root file is 404, and so is everything
// when no code is configured. The route touches no store, so the handler
// needs no table.
func TestVerifyFile(t *testing.T) {
	const code = "Ab12Cd34Ef56Gh78"
	tests := []struct {
		name, code, method, path string
		want                     int
	}{
		{"the file", code, "GET", "/WW_verify_" + code + ".txt", 200},
		{"another code", code, "GET", "/WW_verify_Zz99.txt", 404},
		{"the code in another case", code, "GET", "/WW_verify_ab12cd34ef56gh78.txt", 404},
		{"without .txt", code, "GET", "/WW_verify_" + code, 404},
		{"another root file", code, "GET", "/favicon.ico", 404},
		{"no code set", "", "GET", "/WW_verify_" + code + ".txt", 404},
		{"no code set, empty code in the name", "", "GET", "/WW_verify_.txt", 404},
		{"POST", code, "POST", "/WW_verify_" + code + ".txt", 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &callback.Handler{VerifyCode: tt.code}
			req := events.APIGatewayV2HTTPRequest{
				RouteKey:       "GET /{file}",
				RawPath:        tt.path,
				PathParameters: map[string]string{"file": tt.path[1:]},
			}
			req.RequestContext.HTTP.Method = tt.method
			req.RequestContext.HTTP.Path = tt.path
			resp, err := h.Handle(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d %q, want %d", resp.StatusCode, resp.Body, tt.want)
			}
			if tt.want != 200 {
				return
			}
			if resp.Body != code || resp.Headers["Content-Type"] != "text/plain" || resp.IsBase64Encoded {
				t.Errorf("answer %+v, want the bare code as text/plain", resp)
			}
		})
	}
}
