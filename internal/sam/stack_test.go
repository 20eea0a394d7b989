package sam_test

import (
	"strings"
	"testing"
)

// The verify code reaches the callback as WECOM_VERIFY_CODE, and the route
// that serves the file is the callback's.
func TestVerifyFileRoute(t *testing.T) {
	sources(t, func(t *testing.T, doc cfnDoc) {
		st := deploy(t, doc, map[string]string{"WeComVerifyCode": "Ab12Cd34"})
		cb := st.Resources["CallbackFunction"].Properties
		if got := at(cb, "Environment", "Variables", "WECOM_VERIFY_CODE"); got != "Ab12Cd34" {
			t.Errorf("WECOM_VERIFY_CODE = %v", got)
		}
		if at(cb, "Events") != nil { // as written
			if at(cb, "Events", "VerifyFile", "Properties", "Path") != "/{file}" || at(cb, "Events", "VerifyFile", "Properties", "Method") != "GET" {
				t.Errorf("VerifyFile event %s", jsonString(at(cb, "Events", "VerifyFile")))
			}
			return
		}
		uri := at(st.Resources["ServerlessHttpApi"].Properties, "Body", "paths", "/{file}", "get", "x-amazon-apigateway-integration", "uri")
		if !strings.Contains(jsonString(uri), "${CallbackFunction.Arn}") {
			t.Errorf("GET /{file} integrates %s, want CallbackFunction", jsonString(uri))
		}
	})
}
