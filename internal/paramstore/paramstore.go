// Package paramstore reads parameters from AWS Systems Manager Parameter
// Store: the accounts' SecureStrings and the session page's base URL. It
// speaks Parameter Store's JSON API directly, signed with the SDK's SigV4
// signer, for the two read calls the functions make.
//
// It exists instead of the SDK's ssm client because that client costs
// every function that links it 1.3 MB and over a millisecond of package
// init (its schemas for all of SSM's ~150 operations) on each cold start,
// for two calls (docs/performance.md). It must not grow into a general SSM
// client: anything beyond reading parameters belongs to the SDK.
package paramstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Client reads parameters from one region's Parameter Store.
type Client struct {
	// Endpoint is the service's URL: "" means the region's public
	// endpoint (Endpoint returns it).
	Endpoint    string
	Region      string
	Credentials aws.CredentialsProvider
	HTTP        *http.Client // nil: http.DefaultClient
}

// Endpoint is Parameter Store's public endpoint in region.
func Endpoint(region string) string {
	domain := "amazonaws.com"
	if strings.HasPrefix(region, "cn-") {
		domain = "amazonaws.com.cn"
	}
	return "https://ssm." + region + "." + domain
}

// Parameter is a parameter's name and (decrypted) value.
type Parameter struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

// Error is an error answer from Parameter Store.
type Error struct {
	Status  int
	Code    string // "ParameterNotFound", "AccessDeniedException", ...
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("ssm: %s (%d): %s", e.Code, e.Status, e.Message)
}

// GetParameter returns one parameter, SecureStrings decrypted.
func (c *Client) GetParameter(ctx context.Context, name string) (Parameter, error) {
	var out struct{ Parameter Parameter }
	in := map[string]any{"Name": name, "WithDecryption": true}
	if err := c.call(ctx, "GetParameter", in, &out); err != nil {
		return Parameter{}, fmt.Errorf("get parameter %s: %w", name, err)
	}
	return out.Parameter, nil
}

// ParametersByPath returns every parameter directly under path (not
// recursive), SecureStrings decrypted, reading all pages.
func (c *Client) ParametersByPath(ctx context.Context, path string) ([]Parameter, error) {
	var all []Parameter
	next := ""
	for {
		in := map[string]any{"Path": path, "WithDecryption": true, "Recursive": false}
		if next != "" {
			in["NextToken"] = next
		}
		var out struct {
			Parameters []Parameter
			NextToken  string
		}
		if err := c.call(ctx, "GetParametersByPath", in, &out); err != nil {
			return nil, fmt.Errorf("get parameters by path %s: %w", path, err)
		}
		all = append(all, out.Parameters...)
		if next = out.NextToken; next == "" {
			return all, nil
		}
	}
}

// attempts is how often a call is tried: throttling and server errors
// pass, as the SDK's standard retryer assumes (it tries three times too).
const attempts = 3

// call posts one signed JSON request, retrying throttling, server errors
// and failed connections.
func (c *Client) call(ctx context.Context, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	for try := 1; ; try++ {
		err = c.post(ctx, op, body, out)
		if err == nil || try == attempts || !retryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(try) * 100 * time.Millisecond):
		}
	}
}

func (c *Client) post(ctx context.Context, op string, body []byte, out any) error {
	endpoint := c.Endpoint
	if endpoint == "" {
		endpoint = Endpoint(c.Region)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(endpoint, "/")+"/", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonSSM."+op)
	creds, err := c.Credentials.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	now := time.Now() // wallclock: SigV4 signs with the real time, which AWS checks
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ssm", c.Region, now); err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return apiError(resp.StatusCode, data)
	}
	return json.Unmarshal(data, out)
}

// apiError reads an AWS JSON error body: {"__type": "...#Code", "message": "..."}.
func apiError(status int, body []byte) error {
	var e struct {
		Type     string `json:"__type"`
		Message  string `json:"message"`
		MessageU string `json:"Message"`
	}
	_ = json.Unmarshal(body, &e) // a body that is not JSON still gives the status
	code := e.Type[strings.LastIndex(e.Type, "#")+1:]
	if code == "" {
		code = http.StatusText(status)
	}
	msg := e.Message
	if msg == "" {
		msg = e.MessageU
	}
	return &Error{Status: status, Code: code, Message: msg}
}

func retryable(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return e.Status >= 500 || e.Code == "ThrottlingException"
	}
	var ue *url.Error // the request got no answer
	return errors.As(err, &ue) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}
