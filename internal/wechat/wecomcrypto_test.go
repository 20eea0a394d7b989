package wechat_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// wecomCryptoRun is what testdata/wecom-crypto-bench.js measured.
type wecomCryptoRun struct {
	Version          string    `json:"version"`
	Node             string    `json:"node"`
	NsPerOp          float64   `json:"nsPerOp"` // median of the rounds, after warming up
	Rounds           []float64 `json:"rounds"`
	First1000NsPerOp float64   `json:"first1000NsPerOp"`
}

// wecomCrypto times @wecom/crypto verifying and decrypting v in node. It
// skips the benchmark, saying why, when node or the package is missing.
// The package is looked up from $QUNYUN_WECOM_CRYPTO (its folder, or one
// with it under node_modules), else from infra/.
func wecomCrypto(b *testing.B, v vector) wecomCryptoRun {
	b.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		b.Skip("node is not installed: no @wecom/crypto baseline")
	}
	from := os.Getenv("QUNYUN_WECOM_CRYPTO")
	if from == "" {
		from, err = filepath.Abs(filepath.Join("..", "..", "infra"))
		if err != nil {
			b.Fatal(err)
		}
	}
	in, err := json.Marshal(map[string]any{
		"token": v.Token, "encodingAESKey": v.EncodingAESKey, "receiveId": v.ReceiveID,
		"timestamp": v.Timestamp, "nonce": v.Nonce, "encrypt": v.Encrypt, "msgSignature": v.MsgSignature,
		"expectMsg": v.ExpectMsg, "warmup": 50000, "rounds": 5, "iterations": 20000,
	})
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join("testdata", "wecom-crypto-bench.js"), from)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if exitErr := (*exec.ExitError)(nil); errors.As(err, &exitErr) && exitErr.ExitCode() == 3 {
		b.Skipf("%s(install it there, or set QUNYUN_WECOM_CRYPTO to a folder that has it)", stderr.String())
	}
	if err != nil {
		b.Fatalf("node: %v\n%s", err, stderr.String())
	}
	var run wecomCryptoRun
	if err := json.Unmarshal(out, &run); err != nil {
		b.Fatalf("node said %q: %v", out, err)
	}
	return run
}
