package paramstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/qunyun/qunyun/internal/paramstore"
)

var creds = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret", SessionToken: "token"}, nil
})

// fake answers like Parameter Store: two pages under /p/, one parameter
// /one, ParameterNotFound otherwise; fail makes the next answers 500s.
type fake struct {
	mu       sync.Mutex
	requests []string // X-Amz-Target and body
	fail     int
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in map[string]any
	json.NewDecoder(r.Body).Decode(&in)
	target := r.Header.Get("X-Amz-Target")
	f.mu.Lock()
	b, _ := json.Marshal(in)
	f.requests = append(f.requests, target+" "+string(b))
	fail := f.fail > 0
	f.fail--
	f.mu.Unlock()
	auth := r.Header.Get("Authorization")
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-amz-json-1.1" ||
		!strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKID/") || !strings.Contains(auth, "/cn-north-1/ssm/aws4_request") ||
		r.Header.Get("X-Amz-Security-Token") != "token" {
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"__type":"com.amazon.coral.service#AccessDeniedException","message":"bad request shape"}`))
		return
	}
	switch {
	case fail:
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"__type":"InternalServerError","message":"try again"}`))
	case target == "AmazonSSM.GetParametersByPath" && in["NextToken"] == nil:
		w.Write([]byte(`{"Parameters":[{"Name":"/p/a","Value":"A","Type":"SecureString"}],"NextToken":"t2"}`))
	case target == "AmazonSSM.GetParametersByPath":
		w.Write([]byte(`{"Parameters":[{"Name":"/p/b","Value":"B"}]}`))
	case target == "AmazonSSM.GetParameter" && in["Name"] == "/one":
		w.Write([]byte(`{"Parameter":{"Name":"/one","Value":"https://example.com"}}`))
	default:
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"__type":"ParameterNotFound","message":"no such parameter"}`))
	}
}

func client(t *testing.T, f *fake) *paramstore.Client {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return &paramstore.Client{Endpoint: srv.URL, Region: "cn-north-1", Credentials: creds}
}

func TestParametersByPathReadsEveryPage(t *testing.T) {
	f := &fake{}
	got, err := client(t, f).ParametersByPath(context.Background(), "/p/")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != (paramstore.Parameter{Name: "/p/a", Value: "A"}) || got[1].Value != "B" {
		t.Fatalf("got %+v", got)
	}
	want := []string{
		`AmazonSSM.GetParametersByPath {"Path":"/p/","Recursive":false,"WithDecryption":true}`,
		`AmazonSSM.GetParametersByPath {"NextToken":"t2","Path":"/p/","Recursive":false,"WithDecryption":true}`,
	}
	if strings.Join(f.requests, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(f.requests, "\n"), strings.Join(want, "\n"))
	}
}

func TestGetParameter(t *testing.T) {
	c := client(t, &fake{})
	p, err := c.GetParameter(context.Background(), "/one")
	if err != nil || p.Value != "https://example.com" {
		t.Fatalf("GetParameter = %+v, %v", p, err)
	}
	_, err = c.GetParameter(context.Background(), "/nope")
	var e *paramstore.Error
	if !errors.As(err, &e) || e.Code != "ParameterNotFound" || e.Status != http.StatusBadRequest || e.Message != "no such parameter" {
		t.Fatalf("missing parameter: %v", err)
	}
}

func TestRetriesServerErrorsOnly(t *testing.T) {
	f := &fake{fail: 2}
	if _, err := client(t, f).GetParameter(context.Background(), "/one"); err != nil {
		t.Fatalf("two 500s then an answer: %v", err)
	}
	if len(f.requests) != 3 {
		t.Errorf("%d requests, want 3", len(f.requests))
	}
	f = &fake{}
	client(t, f).GetParameter(context.Background(), "/nope")
	if len(f.requests) != 1 {
		t.Errorf("a 400 was tried %d times, want once", len(f.requests))
	}
}

func TestEndpoint(t *testing.T) {
	for region, want := range map[string]string{
		"us-east-1":  "https://ssm.us-east-1.amazonaws.com",
		"cn-north-1": "https://ssm.cn-north-1.amazonaws.com.cn",
	} {
		if got := paramstore.Endpoint(region); got != want {
			t.Errorf("Endpoint(%s) = %s, want %s", region, got, want)
		}
	}
}
