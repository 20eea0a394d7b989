package paramstore_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/qunyun/qunyun/internal/paramstore"
)

// TestRequestsMatchTheSDK sends the same calls through the SDK's ssm
// client and through Client to one recording server: the operation, the
// content type, the JSON fields and the signing scope must be the same,
// and each must read the other's answers.
func TestRequestsMatchTheSDK(t *testing.T) {
	type request struct {
		target, contentType, scope string
		body                       map[string]any
	}
	var got []request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var body map[string]any
		json.Unmarshal(b, &body)
		auth := r.Header.Get("Authorization")
		scope := ""
		if len(auth) > 50 {
			scope = auth[len("AWS4-HMAC-SHA256 Credential=AKID/20060102/"):]
			scope = scope[:len("cn-north-1/ssm/aws4_request")]
		}
		got = append(got, request{r.Header.Get("X-Amz-Target"), r.Header.Get("Content-Type"), scope, body})
		if r.Header.Get("X-Amz-Target") == "AmazonSSM.GetParameter" {
			w.Write([]byte(`{"Parameter":{"Name":"/one","Value":"v1","Type":"SecureString","Version":3}}`))
			return
		}
		w.Write([]byte(`{"Parameters":[{"Name":"/p/a","Value":"A","Type":"SecureString"}]}`))
	}))
	defer srv.Close()
	ctx := context.Background()

	sdk := ssm.New(ssm.Options{Region: "cn-north-1", BaseEndpoint: aws.String(srv.URL), Credentials: creds})
	one, err := sdk.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/one"), WithDecryption: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	page, err := sdk.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/p/"), WithDecryption: aws.Bool(true), Recursive: aws.Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	ours := &paramstore.Client{Endpoint: srv.URL, Region: "cn-north-1", Credentials: creds}
	p, err := ours.GetParameter(ctx, "/one")
	if err != nil {
		t.Fatal(err)
	}
	list, err := ours.ParametersByPath(ctx, "/p/")
	if err != nil {
		t.Fatal(err)
	}

	if aws.ToString(one.Parameter.Value) != p.Value || len(list) != 1 || aws.ToString(page.Parameters[0].Value) != list[0].Value {
		t.Errorf("answers differ: SDK %q %q, ours %q %+v", aws.ToString(one.Parameter.Value), aws.ToString(page.Parameters[0].Value), p.Value, list)
	}
	if len(got) != 4 {
		t.Fatalf("%d requests, want 4", len(got))
	}
	for i, name := range []string{"GetParameter", "GetParametersByPath"} {
		sdkReq, ourReq := got[i], got[i+2]
		a, _ := json.Marshal(sdkReq.body)
		b, _ := json.Marshal(ourReq.body)
		if sdkReq.target != ourReq.target || sdkReq.contentType != ourReq.contentType || sdkReq.scope != ourReq.scope || string(a) != string(b) {
			t.Errorf("%s:\nSDK  %s %s %s %s\nours %s %s %s %s", name, sdkReq.target, sdkReq.contentType, sdkReq.scope, a, ourReq.target, ourReq.contentType, ourReq.scope, b)
		}
	}
}
