package lambdainit_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/qunyun/qunyun/internal/lambdainit"
)

func TestReportPostsInitError(t *testing.T) {
	var got map[string]string
	var path, typ string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path, typ = r.URL.Path, r.Header.Get("Lambda-Runtime-Function-Error-Type")
		json.NewDecoder(r.Body).Decode(&got)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	t.Setenv("AWS_LAMBDA_RUNTIME_API", strings.TrimPrefix(srv.URL, "http://"))
	if err := lambdainit.Report(errors.New("TABLE_NAME is required but not set")); err != nil {
		t.Fatal(err)
	}
	if path != "/2018-06-01/runtime/init/error" || typ != lambdainit.ErrorType || got["errorMessage"] != "TABLE_NAME is required but not set" {
		t.Fatalf("path=%s type=%s body=%v", path, typ, got)
	}
}

func TestReportOutsideLambdaDoesNothing(t *testing.T) {
	t.Setenv("AWS_LAMBDA_RUNTIME_API", "")
	if err := lambdainit.Report(errors.New("x")); err != nil {
		t.Fatal(err)
	}
}
